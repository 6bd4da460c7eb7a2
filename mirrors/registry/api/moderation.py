"""Admin-only moderation of hosts, and the public list of mirrors."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from metadata.models import Collection
from mirrors.models import Host, HostState, URLScheme
from mirrors.registry import selectors, services
from mirrors.registry.api import serializers as s
from mirrors.registry.validation import country_check

CONFLICT = OpenApiResponse(
    description='The host\'s state does not allow it, or control was never shown: {"detail": "…"}'
)


class ModerationHostSerializer(s.HostSerializer):
    site_name = s.serializers.CharField(source="site.name", read_only=True)
    owner = s.serializers.CharField(source="site.owner.username", read_only=True)

    class Meta(s.HostSerializer.Meta):
        fields = [*s.HostSerializer.Meta.fields, "site_name", "owner"]
        read_only_fields = s.HostSerializer.Meta.fields


@extend_schema_view(
    list=extend_schema(
        summary="Hosts waiting for moderation (or in another state)",
        parameters=[OpenApiParameter("state", OpenApiTypes.STR, enum=HostState.values, description="default pending")],
    )
)
class ModerationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Approve, reject, disable and enable hosts; each decision is emailed to the host's operators."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = ModerationHostSerializer
    queryset = Host.objects.none()

    def get_queryset(self):
        if self.action == "list":
            state = self.request.query_params.get("state", HostState.PENDING)
            if state not in HostState.values:
                raise ValidationError({"state": f"{state!r} is not a state: use one of {', '.join(HostState.values)}."})
            return selectors.moderation_queue(state=state)
        return Host.objects.select_related("site", "site__owner").prefetch_related("urls__collection")

    def _answer(self, host: Host) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=host.pk)).data)

    @extend_schema(request=s.ApproveSerializer, responses={200: ModerationHostSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve; refused with 409 when control was never shown, unless "override": true."""
        body = s.ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        host = services.host_approve(actor=request.user, host=self.get_object(), **body.validated_data)
        return self._answer(host)

    @extend_schema(request=s.ReasonSerializer, responses={200: ModerationHostSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(services.host_reject(actor=request.user, host=self.get_object(), **body.validated_data))

    @extend_schema(request=s.ReasonSerializer, responses={200: ModerationHostSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(services.host_disable(actor=request.user, host=self.get_object(), **body.validated_data))

    @extend_schema(request=s.OptionalReasonSerializer, responses={200: ModerationHostSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        body = s.OptionalReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(services.host_enable(actor=request.user, host=self.get_object(), **body.validated_data))


def public_filters(params) -> dict[str, str]:
    """The status filters from a query string, checked; ValidationError naming the bad one."""
    country = (params.get("country") or "").strip()
    collection = (params.get("collection") or "").strip()
    protocol = (params.get("protocol") or "").strip().lower()
    errors = {}
    if country:
        try:
            country = country_check(country)
        except DjangoValidationError as exc:
            errors["country"] = exc.messages
    if collection and not Collection.objects.filter(slug=collection, public=True).exists():
        errors["collection"] = [f"There is no public collection {collection!r}."]
    if protocol and protocol not in URLScheme.values:
        errors["protocol"] = [f"{protocol!r} is not a protocol: use https, http or rsync."]
    if errors:
        raise ValidationError(errors)
    return {"country": country, "collection": collection, "protocol": protocol}


@extend_schema_view(
    list=extend_schema(
        summary="Approved public mirrors with their URLs and latest probe state",
        parameters=[
            OpenApiParameter("country", OpenApiTypes.STR, description="ISO 3166-1 alpha-2"),
            OpenApiParameter("collection", OpenApiTypes.STR, description="collection slug"),
            OpenApiParameter("protocol", OpenApiTypes.STR, enum=URLScheme.values),
        ],
    )
)
class PublicMirrorViewSet(viewsets.ReadOnlyModelViewSet):
    """The public status of the network; private hosts never appear."""

    permission_classes = [permissions.AllowAny]
    serializer_class = s.PublicMirrorSerializer
    queryset = Host.objects.none()

    def get_queryset(self):
        filters = public_filters(self.request.query_params) if self.action == "list" else {}
        return selectors.public_hosts(**filters)
