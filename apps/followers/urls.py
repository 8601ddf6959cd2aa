from django.urls import path

from apps.followers import apis

# Mounted under /api/v1/ (the player API) and /api/v1/copystake/ (the operator API) by
# config.urls, beside the transactions' endpoints.
player_urlpatterns = [
    path("lobby", apis.LobbyApi.as_view(), name="player-lobby"),
    path("positions", apis.PositionListApi.as_view(), name="player-positions"),
    path("positions/<str:position_id>", apis.PositionDetailApi.as_view(), name="player-position"),
    path("pools/<int:pool_id>/nav", apis.PoolNavApi.as_view(), name="player-pool-nav"),
    path("wallet", apis.WalletApi.as_view(), name="player-wallet"),
    path(
        "positions/<str:position_id>/limits",
        apis.PositionLimitsApi.as_view(),
        name="player-position-limits",
    ),
    path("invites/redeem", apis.InviteRedeemApi.as_view(), name="player-invite-redeem"),
]

operator_urlpatterns = [
    path("init", apis.PlayerInitApi.as_view(), name="init"),
    path("init-demo", apis.PlayerInitDemoApi.as_view(), name="init-demo"),
]
