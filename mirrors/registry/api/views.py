"""The operator API: sites, hosts, URLs, netblocks, countries, peer ASNs; each scoped to the user's sites."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from mirrors.registry import selectors, services
from mirrors.registry.api import serializers as s
from mirrors.registry.throttling import lockout_message

ERRORS = {
    400: OpenApiResponse(description='Bad input: {"detail": "…", "<field>": ["…"]}'),
    401: OpenApiResponse(description="Not authenticated"),
    404: OpenApiResponse(description="Not found (or not yours)"),
}


class IsStaffOrReadOnly(permissions.BasePermission):
    """Reads for every signed-in user (scoped by the queryset); writes for project admins only."""

    message = "Only project admins may change peer ASNs."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_staff


class OperatorViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]


@extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer, 400: ERRORS[400]})
class TokenView(APIView):
    """Exchange a user name and password for an API token (throttled: failures lock the pair out for a while)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = s.TokenRequestSerializer

    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        django_request = request._request  # django-axes watches the Django request, not DRF's wrapper
        user = authenticate(request=django_request, **serializer.validated_data)
        if getattr(django_request, "axes_locked_out", False):
            return Response({"detail": lockout_message()}, status=429)
        if user is None:
            raise ValidationError({"detail": "Unable to log in with that user name and password."})
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


@extend_schema_view(
    list=extend_schema(summary="My sites"),
    create=extend_schema(summary="Register a site", responses={201: s.SiteSerializer, 400: ERRORS[400]}),
)
class SiteViewSet(OperatorViewSet):
    serializer_class = s.SiteSerializer

    def get_queryset(self):
        return selectors.sites_for_user(self.request.user).prefetch_related("admins", "hosts")

    def perform_create(self, serializer):
        serializer.instance = services.site_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        site = serializer.instance
        data = {
            "name": site.name,
            "contact_email": site.contact_email,
            "organization_url": site.organization_url,
            **serializer.validated_data,
        }
        serializer.instance = services.site_update(actor=self.request.user, site=site, **data)

    def perform_destroy(self, instance):
        services.site_delete(actor=self.request.user, site=instance)


@extend_schema_view(
    list=extend_schema(summary="My hosts"),
    create=extend_schema(
        summary="Register a host (it starts pending)", responses={201: s.HostSerializer, 400: ERRORS[400]}
    ),
)
class HostViewSet(OperatorViewSet):
    serializer_class = s.HostSerializer

    def get_queryset(self):
        return selectors.hosts_for_user(self.request.user).prefetch_related("urls__collection")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("enabled", None)
        serializer.instance = services.host_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        host, data = serializer.instance, serializer.validated_data
        if "enabled" in data:
            host = services.host_set_enabled(actor=self.request.user, host=host, enabled=data["enabled"])
        fields = {key: data.get(key, getattr(host, key)) for key in ("country", "bandwidth_mbps", "asn", "private")}
        fields["country"] = str(fields["country"])
        serializer.instance = services.host_update(actor=self.request.user, host=host, **fields)

    def perform_destroy(self, instance):
        services.host_delete(actor=self.request.user, host=instance)

    @extend_schema(
        request=None,
        summary="Check the verification file now",
        responses={200: s.HostSerializer, 400: s.VerificationFailedSerializer, 404: ERRORS[404]},
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Fetch `verification.path` under each of the host's http(s) URLs; 200 with the host when it matches."""
        host = self.get_object()
        outcome = services.host_verify(actor=request.user, host=host)
        if not outcome.verified:
            checks = [{"url": c.url, "ok": c.ok, "detail": c.detail} for c in outcome.checks]
            return Response({"detail": outcome.message, "checks": checks}, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(self.get_queryset().get(pk=host.pk)).data)


@extend_schema_view(create=extend_schema(responses={201: s.HostURLSerializer, 400: ERRORS[400]}))
class HostURLViewSet(OperatorViewSet):
    serializer_class = s.HostURLSerializer

    def get_queryset(self):
        return selectors.host_urls_for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.host_url_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.host_url_update(
            actor=self.request.user, host_url=serializer.instance, collection=data["collection"], url=data["url"]
        )

    def perform_destroy(self, instance):
        services.host_url_delete(actor=self.request.user, host_url=instance)


class CreateListDeleteViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Rows that are replaced, not edited: a network or a country is added or removed."""

    permission_classes = [permissions.IsAuthenticated]


class NetblockViewSet(CreateListDeleteViewSet):
    serializer_class = s.NetblockSerializer

    def get_queryset(self):
        return selectors.netblocks_for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.netblock_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.netblock_delete(actor=self.request.user, netblock=instance)


class HostCountryViewSet(CreateListDeleteViewSet):
    serializer_class = s.HostCountrySerializer

    def get_queryset(self):
        return selectors.host_countries_for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.host_country_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.host_country_delete(actor=self.request.user, host_country=instance)


class HostPeerASNViewSet(CreateListDeleteViewSet):
    """Peer ASNs: operators read their hosts' ones; only project admins add or remove them."""

    serializer_class = s.HostPeerASNSerializer
    permission_classes = [IsStaffOrReadOnly]

    def get_queryset(self):
        return selectors.peer_asns_for_user(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.host_peer_asn_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.host_peer_asn_delete(actor=self.request.user, peer_asn=instance)
