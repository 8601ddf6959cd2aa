from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from apps.core.views import favicon, landing
from apps.followers import urls as followers_urls
from apps.followers.views import play_catalog, play_page
from apps.portal.site import portal_site
from apps.transactions import urls as transactions_urls

# Each endpoint lives in the app whose data it serves; the two APIs are mounted here, paths
# exactly as the contract writes them (no trailing slash).
operator_api = [*followers_urls.operator_urlpatterns, *transactions_urls.operator_urlpatterns]
player_api = [*followers_urls.player_urlpatterns, *transactions_urls.player_urlpatterns]

urlpatterns = [
    path("", landing, name="landing"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    # The operator portal: each operator's own team, scoped to that operator (apps.portal).
    path("portal/", portal_site.urls),
    path("api/v1/copystake/", include((operator_api, "copystake"))),
    path("api/v1/", include(player_api)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("play/", play_page, name="play"),
    path("play/i18n/<str:language>.js", play_catalog, name="play-catalog"),
]

handler404 = "apps.core.exceptions.page_not_found"
handler500 = "apps.core.exceptions.server_error"

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("apps.sandbox.urls")))
