"""Every portal page an operator admin has answers, and shows the operator's own rows."""

import pytest
from django.urls import reverse

from apps.backoffice.tests.admin_world import build_world
from apps.portal.tests.portal_world import member, sign_in

pytestmark = pytest.mark.django_db


def test_admin_sees_every_page_of_their_operator(client):
    world = build_world(code="alpha")
    person = member(world.operator)
    sign_in(client, person)
    pages = [
        reverse("portal:index"),
        reverse("portal:pools_pool_changelist"),
        reverse("portal:pools_pool_change", args=[world.pools[0].pk]),
        reverse("portal:streamers_stream_changelist"),
        reverse("portal:streamers_streamer_changelist"),
        reverse("portal:streamers_streamer_change", args=[world.streamers[0].pk]),
        reverse("portal:followers_follower_changelist"),
        reverse("portal:followers_follower_change", args=[world.positions[0].follower_id]),
        reverse("portal:followers_position_change", args=[world.positions[0].pk]),
        reverse(
            "portal:streamers_stream_change", args=[world.pools[0].streamer.streams.first().pk]
        ),
        reverse("portal:transactions_dailysettlement_changelist") + "?currency=USD",
        reverse("portal:followers_position_changelist"),
        reverse("portal:transactions_transaction_changelist"),
        reverse("portal:transactions_transaction_change", args=[world.transactions[0].pk]),
        reverse("portal:backoffice_reviewitem_changelist"),
        reverse("portal:operators_calllog_changelist"),
        reverse("portal:transactions_dailysettlement_changelist"),
        reverse("portal:transactions_invoice_changelist"),
        reverse("portal:configuration"),
        reverse("portal:keys"),
        reverse("portal:conformance"),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        assert b"Alpha" in response.content, page
        # every link stays in the portal: none leads into the staff back office
        assert b'href="/admin/' not in response.content, page
