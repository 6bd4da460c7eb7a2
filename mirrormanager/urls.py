"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views
from metadata import api as metadata_api
from metadata import views as metadata_views

handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    re_path(
        r"^pub/(?P<slug>[-a-zA-Z0-9_]+)/pypi/(?P<project>[^/]+)/json/?$",
        metadata_api.pypi_project_json,
        name="pypi-project-json",
    ),
    path("pub/<path:path>", metadata_views.published_file, name="published-file"),
    path("api/v1/", include("mirrors.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("metadata.urls")),
    path("", include("mirrors.urls")),
]
