"""What each operator role may see and do in the portal: one table, read by every page.

A *section* is a page or a group of pages (``"pools"``, ``"review"``, ``"keys"``); a role sees
a section when the table lists it. Acting (changing the configuration, rotating keys, running
the conformance check) is a section of its own, so that viewing never implies acting.
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Operator admin"
    SUPPORT = "support", "Operator support"
    FINANCE = "finance", "Operator finance"


# Pages: what a role may look at. Everyone sees the operation and its money; support the
# players and the integration too; the admin everything, the finance pages and keys included.
_EVERYONE = {"dashboard", "pools", "streams", "streamers", "transactions"}
_SUPPORT = _EVERYONE | {"followers", "review", "calls", "configuration", "conformance"}
VIEW = {
    Role.ADMIN: _SUPPORT | {"finance", "keys"},
    Role.SUPPORT: _SUPPORT,
    Role.FINANCE: _EVERYONE | {"finance"},
}
# Acts: what a role may change. Staff viewing as an operator may change nothing.
ACT = {
    Role.ADMIN: {"configuration", "keys", "conformance", "export"},
    Role.SUPPORT: set(),
    Role.FINANCE: {"export"},
}
# Roles that must sign in with a one-time code (others may enrol a device too).
TWO_FACTOR_REQUIRED = {Role.ADMIN}


def may_view(role: str, section: str) -> bool:
    return section in VIEW.get(Role(role), set())


def may_act(role: str, section: str) -> bool:
    return section in ACT.get(Role(role), set())
