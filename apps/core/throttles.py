"""Rate limits of the APIs: DRF's cache-based throttle, counted per caller identity.

The rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]``, read when each request is
checked (so a changed setting applies at once), and the counts live in the default cache:
in production that must be a cache shared by every web process (``CACHE_URL``, Redis), or
each process counts on its own. A refusal is DRF's ``Throttled``, which the exception handler
answers as 429 ``ErrorCode.THROTTLED`` with ``Retry-After``.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class IdentityRateThrottle(SimpleRateThrottle):
    """Counts the requests of whoever ``identity`` names; a request it names nobody for is
    not counted (it failed authentication, which answers first)."""

    scope: str

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return None if rate is None else str(rate)

    def identity(self, request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view) -> str | None:
        ident = self.identity(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}
