"""Public, read-only API of collections: what each one holds and where its tree is."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers, viewsets

from metadata.models import Collection
from metadata.selectors import collection_list_visible


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
