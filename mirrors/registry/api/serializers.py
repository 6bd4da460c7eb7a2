"""Shapes of the registry API. Checks come from mirrors.registry.validation; writes go through the services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from metadata.models import Collection
from mirrors.models import Host, HostCountry, HostPeerASN, HostURL, Netblock, Site
from mirrors.registry import selectors
from mirrors.registry.validation import (
    asn_check,
    cidr_normalise,
    country_check,
    host_name_check,
    url_check,
    url_unique_check,
)


def _user(serializer: serializers.Serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class ScopedHostField(serializers.PrimaryKeyRelatedField):
    """A host of one of the requesting user's sites; any other id is "not found", never "not yours"."""

    def get_queryset(self):
        return selectors.hosts_for_user(_user(self.parent))


class ScopedSiteField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return selectors.sites_for_user(_user(self.parent))


class SiteSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    admins = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    hosts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Site
        fields = ["id", "name", "organization_url", "contact_email", "owner", "admins", "hosts", "created_at"]
        read_only_fields = ["created_at"]
        # Uniqueness is checked (case-insensitively, with a message) by the service.
        extra_kwargs = {"name": {"validators": []}}


class VerificationSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Where to serve the token, relative to each of the host's http(s) URLs")
    token = serializers.CharField(help_text="The file's whole content")
    verified = serializers.BooleanField(help_text="Control was shown")
    verified_at = serializers.DateTimeField(allow_null=True)


class HostURLBriefSerializer(serializers.ModelSerializer):
    collection = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = HostURL
        fields = ["id", "collection", "url", "scheme", "probe_state", "probe_lag_seconds", "probed_at"]


class HostSerializer(serializers.ModelSerializer):
    site = ScopedSiteField()
    country = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    asn = serializers.IntegerField(required=False, allow_null=True, help_text="The host's own AS number")
    verification = serializers.SerializerMethodField()
    urls = HostURLBriefSerializer(many=True, read_only=True)

    class Meta:
        model = Host
        fields = [
            "id", "site", "name", "country", "continent", "bandwidth_mbps", "asn", "private", "enabled",
            "state", "state_reason", "state_changed_at", "verification", "urls", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["continent", "state", "state_reason", "state_changed_at", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}, "bandwidth_mbps": {"min_value": 1, "max_value": 10_000_000}}

    @extend_schema_field(VerificationSerializer)
    def get_verification(self, host: Host) -> dict:
        return {
            "path": selectors.verification_path(host),
            "token": host.verification_token,
            "verified": host.verified_at is not None,
            "verified_at": host.verified_at,
        }

    def validate_name(self, value: str) -> str:
        name = host_name_check(value)
        if self.instance is not None and name != self.instance.name:
            raise serializers.ValidationError("A host's name cannot be changed: delete it and register the new name.")
        return name

    def validate_site(self, value: Site) -> Site:
        if self.instance is not None and value.pk != self.instance.site_id:
            raise serializers.ValidationError("A host cannot move to another site.")
        return value

    def validate_country(self, value: str) -> str:
        return country_check(value)

    def validate_asn(self, value):
        return asn_check(value, admin=bool(_user(self) and _user(self).is_staff))


class HostURLSerializer(serializers.ModelSerializer):
    host = ScopedHostField()
    collection = serializers.SlugRelatedField(slug_field="slug", queryset=Collection.objects.all())

    class Meta:
        model = HostURL
        fields = [
            "id", "host", "collection", "url", "scheme", "probe_state", "probe_reason", "probe_revision",
            "probe_revisions_behind", "probe_lag_seconds", "probed_at", "auto_disabled", "auto_disabled_reason",
            "created_at",
        ]  # fmt: skip
        read_only_fields = [name for name in fields if name not in ("host", "collection", "url")]
        validators: list = []  # one URL per host, collection and scheme: checked with a message in validate()

    def validate_host(self, value: Host) -> Host:
        if self.instance is not None and value.pk != self.instance.host_id:
            raise serializers.ValidationError("A URL cannot move to another host.")
        return value

    def validate(self, attrs: dict) -> dict:
        host = attrs.get("host") or self.instance.host
        collection = attrs.get("collection") or self.instance.collection
        try:
            checked = url_check(attrs.get("url") or self.instance.url, host_name=host.name)
            url_unique_check(
                host_id=host.pk,
                collection_id=collection.pk,
                scheme=checked.scheme,
                exclude_id=self.instance.pk if self.instance else None,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"url": exc.messages}) from None
        attrs.update(host=host, collection=collection, url=checked.url)
        return attrs

    def validate_url(self, value: str) -> str:
        return url_check(value).url


class NetblockSerializer(serializers.ModelSerializer):
    host = ScopedHostField()

    class Meta:
        model = Netblock
        fields = ["id", "host", "cidr", "created_at"]
        read_only_fields = ["created_at"]
        validators: list = []

    def validate_cidr(self, value: str) -> str:
        return cidr_normalise(value, admin=bool(_user(self) and _user(self).is_staff))


class HostCountrySerializer(serializers.ModelSerializer):
    host = ScopedHostField()
    country = serializers.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")

    class Meta:
        model = HostCountry
        fields = ["id", "host", "country"]
        validators: list = []

    def validate_country(self, value: str) -> str:
        return country_check(value)


class HostPeerASNSerializer(serializers.ModelSerializer):
    host = ScopedHostField()
    asn = serializers.IntegerField()

    class Meta:
        model = HostPeerASN
        fields = ["id", "host", "asn"]
        validators: list = []

    def validate_asn(self, value: int) -> int:
        return asn_check(value, admin=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Sent to the host's operators")


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ApproveSerializer(OptionalReasonSerializer):
    override = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Approve although control was never shown (recorded in the audit trail)",
    )


class VerificationCheckSerializer(serializers.Serializer):
    url = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class VerificationFailedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    checks = VerificationCheckSerializer(many=True)


class PublicURLSerializer(serializers.ModelSerializer):
    collection = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    probe_state_label = serializers.CharField(source="get_probe_state_display", read_only=True)

    class Meta:
        model = HostURL
        fields = [
            "collection", "url", "scheme", "probe_state", "probe_state_label", "probe_revision",
            "probe_revisions_behind", "probe_lag_seconds", "probed_at", "auto_disabled",
        ]  # fmt: skip


class PublicMirrorSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.name", read_only=True)
    country = serializers.CharField(read_only=True)
    urls = PublicURLSerializer(many=True, read_only=True)

    class Meta:
        model = Host
        fields = ["id", "name", "site", "country", "continent", "bandwidth_mbps", "state", "enabled", "urls"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
