"""Audit trail helpers (django-simple-history)."""

from django.contrib.auth.models import AbstractBaseUser


def staff_history_user(instance=None, request=None, **kwargs):
    """Who changed it: a staff user of the admin, never a player or operator principal that an
    API authentication class put on the request."""
    user = getattr(request, "user", None) if request is not None else None
    return user if isinstance(user, AbstractBaseUser) and user.is_authenticated else None
