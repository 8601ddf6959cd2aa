"""The pool page says why a pool closed (and who decided it) and links to its streamer and the
stream it belonged to."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.backoffice.tests.admin_world import make_pool, secret_operator, superuser
from apps.pools.models import Pool
from apps.pools.selectors import pool_close_cause, pool_stream
from apps.streamers.models import Stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    return make_pool(secret_operator(), 1)


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({}, ""),
        ({"state": "closed"}, "The last follower left"),
        (
            {"state": "closed", "open_sent_at": None, "opening_balance": None},
            "Never opened: the first join did not go through",
        ),
        ({"state": "closed", "is_bust": True}, "Bust: the streamer's balance fell to zero"),
        (
            {"state": "closing", "close_reason": "stream ended by staff ana, streamer offline"},
            "Stream ended by staff ana, streamer offline; closing: paying members out",
        ),
        (
            {"state": "closed", "close_reason": "settled by staff bo, wrong currency"},
            "Settled by staff bo, wrong currency",
        ),
        (
            {"state": "closed", "is_bust": True, "close_reason": "stream ended by the operator"},
            "Bust: the streamer's balance fell to zero; Stream ended by the operator",
        ),
    ],
)
def test_the_close_cause_says_why_and_who(pool, change, cause):
    Pool.objects.filter(pk=pool.pk).update(**change)
    pool.refresh_from_db()
    assert pool_close_cause(pool) == cause


def test_the_pool_belongs_to_the_stream_live_when_it_opened(pool):
    streams = Stream.objects.filter(streamer=pool.streamer)
    live = streams.get()
    # The stream went live just after the pool row was made: move it before.
    streams.update(started_at=pool.opened_at - timedelta(minutes=5))
    older = Stream.objects.create(
        streamer=pool.streamer,
        status="ended",
        started_at=pool.opened_at - timedelta(days=2),
        ended_at=pool.opened_at - timedelta(days=1),
    )
    Stream.objects.create(
        streamer=pool.streamer, status="scheduled", scheduled_start=timezone.now() + timedelta(1)
    )
    assert pool_stream(pool) == live
    streams.filter(pk=live.pk).delete()
    assert pool_stream(pool) is None, f"{older} had ended before the pool opened"


def test_the_pool_page_shows_the_cause_and_links_streamer_and_stream(client, pool):
    client.force_login(superuser())
    stream = Stream.objects.get(streamer=pool.streamer)
    Stream.objects.filter(pk=stream.pk).update(
        title="Friday slots", started_at=pool.opened_at - timedelta(minutes=1)
    )
    Pool.objects.filter(pk=pool.pk).update(
        state="closed", close_reason="stream ended by staff ana, streamer offline"
    )

    page = client.get(reverse("admin:pools_pool_change", args=[pool.pk])).content.decode()

    assert "Why it closed" in page
    assert "Stream ended by staff ana, streamer offline" in page
    assert reverse("admin:streamers_streamer_change", args=[pool.streamer_id]) in page
    assert reverse("admin:streamers_stream_change", args=[stream.pk]) in page
    assert "Friday slots" in page


def test_an_open_pool_says_open_and_no_stream_when_none_was_live(client):
    client.force_login(superuser())
    pool = make_pool(secret_operator(), 2, live=False)
    page = client.get(reverse("admin:pools_pool_change", args=[pool.pk])).content.decode()
    assert "Why it closed" in page
    field = re.search(r"Stream:</label>\s*<div class=\"readonly\">(.*?)</div>", page, re.S)
    assert field is not None
    assert "/admin/streamers/stream/" not in field.group(1)
    assert pool_close_cause(pool) == ""
