"""The project's URLs and, for the operator API benchmark only, ``POST /bench/bare``: a DRF
view that parses a JSON body and answers a small JSON object, with no authentication,
throttling or database: the floor a DRF endpoint costs on the same server."""

from django.urls import include, path
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class BareApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes = [JSONParser]

    def post(self, request: Request) -> Response:
        return Response({"ok": True, "keys": sorted(request.data)})


urlpatterns = [
    path("bench/bare", BareApi.as_view()),
    path("", include("config.urls")),
]
