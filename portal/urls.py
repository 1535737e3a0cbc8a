"""Top-level URL map: portal, admin, inbound integrations, OAuth2, health."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/v1/", include("api.urls", namespace="api")),
    path("integrations/", include("integrations.urls")),
    path("", include("operations.urls")),
    path("", include("portal.portal_urls", namespace="portal")),
]
