"""REST API routes of mirrors.registry, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from metadata.api import CollectionViewSet
from mirrors.registry.api.moderation import ModerationViewSet, PublicMirrorViewSet
from mirrors.registry.api.views import (
    HostCountryViewSet,
    HostPeerASNViewSet,
    HostURLViewSet,
    HostViewSet,
    NetblockViewSet,
    SiteViewSet,
    TokenView,
)

router = SimpleRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("hosts", HostViewSet, basename="host")
router.register("host-urls", HostURLViewSet, basename="host-url")
router.register("netblocks", NetblockViewSet, basename="netblock")
router.register("countries", HostCountryViewSet, basename="host-country")
router.register("asns", HostPeerASNViewSet, basename="host-peer-asn")
router.register("moderation/hosts", ModerationViewSet, basename="moderation-host")
router.register("mirrors", PublicMirrorViewSet, basename="public-mirror")
router.register("collections", CollectionViewSet, basename="collection")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    *router.urls,
]
