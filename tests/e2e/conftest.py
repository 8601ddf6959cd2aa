"""End-to-end fixtures (real HTTP through the live server) and the ledger comparison.

``assert_ledgers_match`` compares the sandbox operator's books with our ledger
(``apps.sandbox.ledger``): every account's balance follows from our succeeded transactions,
every transfer id and ``providerTxId`` the sandbox saw maps to exactly one of our transactions
with the same amount, and nothing is in doubt or applied twice.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.sandbox.ledger import ledger_violations
from tests.e2e.world import World, build_world


@pytest.fixture
def world(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    world = build_world(live_server.url)
    yield world
    world.close()


def assert_ledgers_match(
    world: World, *, adjustments: dict[str, Decimal] | None = None, settled: bool = True
) -> None:
    """The sandbox's books equal ours (``apps.sandbox.ledger.ledger_violations``).

    ``adjustments`` are money moved at the operator outside CopyStake (a test setting a
    streamer's balance to zero), by user id. With ``settled`` (the default) nothing may be
    pending or in doubt and every saga must have finished.
    """
    problems = ledger_violations(
        operator=world.operator,
        sandbox=world.sandbox,
        initial=world.initial,
        adjustments=adjustments,
        settled=settled,
    )
    assert not problems, "\n".join(problems)
