"""A text field encrypted at rest with Fernet, keyed by settings.FIELD_ENCRYPTION_KEY."""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    # Several comma-separated keys allow rotation: the first encrypts, any decrypts.
    return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])


def fernet() -> MultiFernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY)


class EncryptedTextField(models.TextField):
    """Stores Fernet tokens; Python code only ever sees the plain text."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken as error:
            raise ValueError(
                f"{self.model.__name__}.{self.name} cannot be decrypted with FIELD_ENCRYPTION_KEY"
            ) from error

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return fernet().encrypt(value.encode()).decode()


def mask_secret(value: str | None, visible: int = 4) -> str:
    """Show only the last few characters of a secret: ``••••••1a2b``."""
    if not value:
        return ""
    if len(value) <= visible * 2:
        return "•" * len(value)
    return "•" * 6 + value[-visible:]


def masked(field_name: str, description: str | None = None) -> property:
    """A read-only property that shows the secret in ``field_name`` masked (``mask_secret``)."""

    def get(instance: object) -> str:
        return mask_secret(getattr(instance, field_name))

    get.short_description = description or field_name.replace("_", " ")  # type: ignore[attr-defined]
    return property(get, doc=f"``{field_name}``, masked: only its last characters show.")
