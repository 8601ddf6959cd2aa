from apps.core.throttles import IdentityRateThrottle
from apps.operators.models import Operator


class OperatorRateThrottle(IdentityRateThrottle):
    """The operator API, counted per operator (all its endpoints together): rate ``operator``."""

    scope = "operator"

    def identity(self, request) -> str | None:
        return str(request.auth.pk) if isinstance(request.auth, Operator) else None
