"""Follower and player-session factories.

``PlayerSessionFactory()`` is a live (one hour) real-money session of a new follower; pass
``follower=...`` to reuse one, or ``expired=True`` for a session whose time is up. A demo
session: ``PlayerSessionFactory(follower__is_demo=True)`` (``is_demo`` follows the follower).
"""

from datetime import timedelta

import factory
from django.utils import timezone

from apps.followers.models import Follower, PlayerSession
from apps.operators.tests.factories import OperatorFactory


class FollowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Follower

    operator = factory.SubFactory(OperatorFactory)
    operator_user_id = factory.Sequence(lambda n: f"player-{n}")
    username = factory.Sequence(lambda n: f"player{n}")


class PlayerSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlayerSession

    follower = factory.SubFactory(FollowerFactory)
    user_token = factory.Sequence(lambda n: f"operator-user-token-{n}")
    currency = "USD"
    is_demo = factory.SelfAttribute("follower.is_demo")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))

    class Params:
        expired = factory.Trait(
            expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
        )
