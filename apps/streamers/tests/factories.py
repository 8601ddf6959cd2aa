"""Streamer and stream factories. ``StreamFactory()`` is live; ``scheduled``/``ended`` traits."""

from datetime import timedelta

import factory
from django.utils import timezone

from apps.operators.tests.factories import OperatorFactory
from apps.streamers.models import Stream, Streamer


class StreamerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Streamer

    operator = factory.SubFactory(OperatorFactory)
    operator_user_id = factory.Sequence(lambda n: f"streamer-{n}")
    display_name = factory.Sequence(lambda n: f"Streamer {n}")
    currency = "USD"


class StreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stream

    streamer = factory.SubFactory(StreamerFactory)
    title = factory.Sequence(lambda n: f"Stream {n}")
    status = Stream.Status.LIVE
    started_at = factory.LazyFunction(timezone.now)

    class Params:
        scheduled = factory.Trait(
            status=Stream.Status.SCHEDULED,
            started_at=None,
            scheduled_start=factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1)),
            scheduled_end=factory.LazyFunction(lambda: timezone.now() + timedelta(hours=3)),
        )
        ended = factory.Trait(
            status=Stream.Status.ENDED,
            started_at=factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2)),
            ended_at=factory.LazyFunction(timezone.now),
        )
