from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.followers.views import play_page

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/copystake/", include("apps.operators.urls")),
    path("api/v1/", include("apps.followers.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("play/", play_page, name="play"),
]

handler404 = "apps.core.exceptions.page_not_found"
handler500 = "apps.core.exceptions.server_error"

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("apps.sandbox.urls")))
