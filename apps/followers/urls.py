from django.urls import path

from apps.followers import apis

urlpatterns = [
    path("lobby", apis.LobbyApi.as_view(), name="player-lobby"),
    path("pools/join", apis.PoolJoinApi.as_view(), name="player-join"),
    path("positions", apis.PositionListApi.as_view(), name="player-positions"),
    path("positions/<str:position_id>", apis.PositionDetailApi.as_view(), name="player-position"),
    path("positions/<str:position_id>/leave", apis.PositionLeaveApi.as_view(), name="player-leave"),
]
