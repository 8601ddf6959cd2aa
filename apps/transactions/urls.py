from django.urls import path

from apps.transactions import apis

# Mounted under /api/v1/ (the player API) and /api/v1/copystake/ (the operator API) by
# config.urls, beside the followers' endpoints.
player_urlpatterns = [
    path("pools/join", apis.PoolJoinApi.as_view(), name="player-join"),
    path(
        "positions/<str:position_id>/top-up", apis.PositionTopUpApi.as_view(), name="player-top-up"
    ),
    path("positions/<str:position_id>/leave", apis.PositionLeaveApi.as_view(), name="player-leave"),
    path("statement", apis.StatementApi.as_view(), name="player-statement"),
    path(
        "streamers/<int:streamer_id>/stats",
        apis.StreamerStatsApi.as_view(),
        name="player-streamer-stats",
    ),
    path("leaderboard", apis.LeaderboardApi.as_view(), name="player-leaderboard"),
]

operator_urlpatterns = [
    path("transaction-status", apis.TransactionStatusApi.as_view(), name="transaction-status"),
    path("streams/start", apis.StreamStartApi.as_view(), name="streams-start"),
    path("streams/end", apis.StreamEndApi.as_view(), name="streams-end"),
]
