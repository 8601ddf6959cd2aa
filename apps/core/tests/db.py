"""Proving that the database itself refuses a row."""

from collections.abc import Callable

from django.db import IntegrityError, transaction


def db_refuses(create: Callable[[], object]) -> bool:
    """True when ``create()`` raised IntegrityError (rolled back in a savepoint)."""
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False
