"""A stream's admin page shows the track record of that stream: its streamer's figures over
the stream's hours only."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from apps.backoffice.tests.admin_world import superuser
from apps.pools.rollups import rollups_refresh
from apps.pools.tests.histories import pool_with_history
from apps.streamers.models import Stream

pytestmark = pytest.mark.django_db


def test_the_stream_page_shows_the_streams_own_figures(client, streamer):
    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    began = now - timedelta(days=3, hours=5)
    pool_with_history(
        streamer,
        [(began + timedelta(minutes=5), "1"), (began + timedelta(hours=2), "1.25")],
        closed_at=began + timedelta(hours=3),
    )
    pool_with_history(streamer, [(now - timedelta(hours=3), "1"), (now, "0.5")])  # later
    Stream.objects.filter(streamer=streamer).delete()
    stream = Stream.objects.create(
        streamer=streamer, status="ended", started_at=began, ended_at=began + timedelta(hours=3)
    )
    rollups_refresh()
    client.force_login(superuser())

    page = client.get(reverse("admin:streamers_stream_change", args=[stream.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="stream-record"' in html
    assert "+25.00 %" in html  # this stream's pool only: 1 -> 1.25
    assert "-50.00 %" not in html  # the later pool is not this stream's
    assert "Chained NAV index, this stream" in html
    assert ">3.00<" in html  # hours live


def test_a_stream_that_never_started_has_no_figures(client, streamer):
    stream = Stream.objects.create(
        streamer=streamer,
        status="scheduled",
        scheduled_start=datetime.now(UTC) + timedelta(days=1),
    )
    client.force_login(superuser())
    page = client.get(reverse("admin:streamers_stream_change", args=[stream.pk]))
    assert page.status_code == 200
    assert 'data-testid="stream-record"' not in page.content.decode()
