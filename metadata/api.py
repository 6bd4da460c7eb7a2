"""Public, read-only API of collections: what each one holds and where its tree is."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers, viewsets

from metadata.models import Collection
from metadata.selectors import collection_list_visible, collection_project_api


class CollectionSerializer(serializers.ModelSerializer):
    tree_path = serializers.SerializerMethodField()

    class Meta:
        model = Collection
        fields = [
            "slug", "title", "description", "public", "revision", "published_at", "max_lag_seconds",
            "include_projects", "exclude_projects", "package_types", "platform_tags", "python_versions",
            "include_prereleases", "latest_versions", "max_file_size", "tree_path",
        ]  # fmt: skip

    @extend_schema_field(serializers.CharField(help_text="Where the origin serves the tree, e.g. /pub/full/"))
    def get_tree_path(self, collection: Collection) -> str:
        return f"/pub/{collection.slug}/"


class CollectionViewSet(viewsets.ReadOnlyModelViewSet):
    """Published collections (public ones; project admins see every one)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = CollectionSerializer
    lookup_field = "slug"
    queryset = Collection.objects.none()

    def get_queryset(self):
        return collection_list_visible(staff=self.request.user.is_staff)


@require_safe
def pypi_project_json(request: HttpRequest, slug: str, project: str) -> HttpResponse:
    """`/pub/<slug>/pypi/<project>/json`: the PyPI-like JSON API of a collection's project, for bandersnatch
    and other tools that read it (docs/publishing.md). X-PyPI-Last-Serial is the collection's index serial,
    at least the project's serial in the root index, as bandersnatch checks."""
    if not collection_list_visible(staff=request.user.is_staff).filter(slug=slug).exists():
        return JsonResponse({"message": f"no collection {slug!r}"}, status=404)
    answer = collection_project_api(slug=slug, project=project)
    if answer is None:
        return JsonResponse({"message": f"collection {slug!r} publishes no project {project!r}"}, status=404)
    response = JsonResponse(answer.body)
    response["X-PyPI-Last-Serial"] = str(answer.index_serial)
    return response
