"""The database itself refuses rows that break the money invariants."""

import pytest

from apps.core.tests.db import db_refuses
from apps.streamers.models import Stream
from apps.streamers.tests.factories import StreamFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_a_second_live_stream_for_one_streamer():
    # given
    stream = StreamFactory()
    # then
    assert db_refuses(lambda: StreamFactory(streamer=stream.streamer))
    assert Stream.objects.filter(streamer=stream.streamer, status="live").count() == 1
