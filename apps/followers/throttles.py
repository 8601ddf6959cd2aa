from apps.core.throttles import IdentityRateThrottle
from apps.followers.models import PlayerSession


class PlayerRateThrottle(IdentityRateThrottle):
    """The player API, counted per follower (all their sessions and endpoints together): rate
    ``player``."""

    scope = "player"

    def identity(self, request) -> str | None:
        session = request.auth
        return str(session.follower_id) if isinstance(session, PlayerSession) else None
