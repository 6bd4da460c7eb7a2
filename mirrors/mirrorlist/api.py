"""GET /api/v1/mirrorlist/<collection>/: DRF for authentication and the OpenAPI schema; the answer itself is
built by mirrors.mirrorlist.answer (the same code the WSGI fast path runs for anonymous requests)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from mirrors.mirrorlist.answer import FORMATS, Answer, mirrorlist_answer
from mirrors.mirrorlist.engine.select import PROTOCOLS, TIERS


class _FirstRenderer(BaseContentNegotiation):
    """`format` is our own parameter (json, txt, metalink): DRF's format override must not 404 on it."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


def as_response(answer: Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response[name] = value
    return response


_ERROR = inline_serializer("MirrorlistError", fields={"detail": serializers.CharField()})
_MIRRORS = inline_serializer(
    "MirrorlistEntry",
    many=True,
    fields={
        "url": serializers.CharField(),
        "host": serializers.CharField(),
        "country": serializers.CharField(allow_null=True),
        "tier": serializers.ChoiceField(choices=TIERS),
        "reason": serializers.CharField(required=False, help_text="with explain=1"),
    },
)
_ANSWER = inline_serializer(
    "Mirrorlist",
    fields={
        "collection": serializers.CharField(),
        "revision": serializers.IntegerField(allow_null=True),
        "repomd_sha256": serializers.CharField(allow_null=True),
        "timestamp": serializers.CharField(allow_null=True),
        "client": inline_serializer(
            "MirrorlistClient",
            fields={
                "ip": serializers.CharField(),
                "country": serializers.CharField(allow_null=True),
                "continent": serializers.CharField(allow_null=True),
                "asn": serializers.IntegerField(allow_null=True),
            },
        ),
        "mirrors": _MIRRORS,
        "table_version": serializers.IntegerField(),
        "excluded": inline_serializer(
            "MirrorlistExcluded",
            fields={"url": serializers.CharField(), "host": serializers.CharField(), "reason": serializers.CharField()},
            many=True,
            required=False,
        ),
    },
)


class MirrorlistView(APIView):
    permission_classes = [AllowAny]
    content_negotiation_class = _FirstRenderer

    @extend_schema(
        operation_id="mirrorlist",
        summary="Mirrors of a collection for this client, best first",
        description=(
            "Tiers: netblock, asn, country, continent, world (while fewer than MIRRORLIST_MIN_MIRRORS), origin. "
            "format=txt: one URL a line; format=metalink: RFC 5854 for repodata/repomd.json."
        ),
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), description="default json"),
            OpenApiParameter("country", OpenApiTypes.STR, description="ISO 3166-1 alpha-2; overrides GeoIP's"),
            OpenApiParameter("protocol", OpenApiTypes.STR, enum=list(PROTOCOLS), description="default https+http"),
            OpenApiParameter("seed", OpenApiTypes.INT, description="repeatable shuffle (tests)"),
            OpenApiParameter("ip", OpenApiTypes.STR, description="admins only: answer for this address"),
            OpenApiParameter("explain", OpenApiTypes.BOOL, description="admins only: reasons and exclusions"),
        ],
        responses={
            200: OpenApiResponse(_ANSWER, description="JSON; text/plain or application/metalink4+xml by format"),
            400: OpenApiResponse(_ERROR, description="a bad parameter"),
            403: OpenApiResponse(_ERROR, description="ip= or explain= without admin rights"),
            404: OpenApiResponse(_ERROR, description="no such collection"),
            503: OpenApiResponse(_ERROR, description="no table built yet"),
        },
    )
    def get(self, request: Request, collection: str) -> HttpResponse:
        answer = mirrorlist_answer(
            collection,
            request.query_params,
            peer=request.META.get("REMOTE_ADDR", ""),
            forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
            request_base_url=request.build_absolute_uri("/"),
            is_admin=bool(request.user and request.user.is_staff),
        )
        return as_response(answer)
