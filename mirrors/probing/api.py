"""REST API of the probes: the check-in of mirrors the origin cannot reach."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mirrors.probing.checkin import CheckinInvalid, CheckinNotFound, checkin_record


class CheckinSerializer(serializers.Serializer):
    host = serializers.IntegerField(min_value=1, help_text="The host's id")
    collection = serializers.SlugField(max_length=100, help_text="The collection's slug")
    repomd_sha256 = serializers.CharField(max_length=200, help_text="sha256 of the repodata/repomd.json served")


class CheckinAnswerSerializer(serializers.Serializer):
    host = serializers.IntegerField()
    collection = serializers.CharField()
    state = serializers.CharField(help_text="current or behind")
    revision = serializers.IntegerField()
    revisions_behind = serializers.IntegerField()
    lag_seconds = serializers.IntegerField()
    urls = serializers.ListField(child=serializers.IntegerField(), help_text="ids of the host URLs it applies to")


class CheckinView(APIView):
    """POST a mirror's repomd.json sha256; answers the state it now counts as."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CheckinSerializer, responses={200: CheckinAnswerSerializer})
    def post(self, request: Request) -> Response:
        given = CheckinSerializer(data=request.data)
        if not given.is_valid():
            return Response(
                {"detail": "invalid check-in: " + _first_error(given.errors), "errors": given.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            result = checkin_record(
                user=request.user,
                host_id=given.validated_data["host"],
                collection=given.validated_data["collection"],
                repomd_sha256=given.validated_data["repomd_sha256"],
            )
        except CheckinNotFound as error:
            return Response({"detail": str(error)}, status=status.HTTP_404_NOT_FOUND)
        except CheckinInvalid as error:
            return Response(
                {"detail": error.message, "errors": {error.field: [error.message]}}, status=status.HTTP_400_BAD_REQUEST
            )
        answer = {
            "host": result.host.pk,
            "collection": result.collection,
            "state": result.state,
            "revision": result.revision,
            "revisions_behind": result.revisions_behind,
            "lag_seconds": result.lag_seconds,
            "urls": result.urls,
        }
        return Response(CheckinAnswerSerializer(answer).data)


def _first_error(errors: dict) -> str:
    for field, messages in errors.items():
        return f"{field}: {messages[0]}"
    return "bad input"
