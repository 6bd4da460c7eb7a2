"""The Django admin for the registry's models; the probe and mirrorlist models are registered by their parts.

Edits here bypass the services, but the audit trail still records them.
"""

from __future__ import annotations

from django.contrib import admin

from mirrors.models import Host, HostCountry, HostPeerASN, HostURL, Netblock, Site, SiteInvitation


class HostInline(admin.TabularInline):
    model = Host
    fields = ("name", "country", "state", "enabled", "private")
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "contact_email", "host_count", "created_at")
    search_fields = ("name", "contact_email", "owner__username", "owner__email")
    list_filter = ("created_at",)
    autocomplete_fields = ("owner", "admins")
    inlines = [HostInline]

    @admin.display(description="hosts")
    def host_count(self, site: Site) -> int:
        return site.hosts.count()


@admin.register(SiteInvitation)
class SiteInvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "site", "invited_by", "created_at", "accepted_by", "accepted_at")
    search_fields = ("email", "site__name")
    list_filter = ("accepted_at",)
    exclude = ("token",)
    readonly_fields = ("accepted_by", "accepted_at")


class HostURLInline(admin.TabularInline):
    model = HostURL
    fields = ("collection", "url", "scheme", "probe_state", "probe_lag_seconds", "auto_disabled")
    readonly_fields = ("scheme", "probe_state", "probe_lag_seconds")
    extra = 0


class NetblockInline(admin.TabularInline):
    model = Netblock
    extra = 0


class HostCountryInline(admin.TabularInline):
    model = HostCountry
    extra = 0


class HostPeerASNInline(admin.TabularInline):
    model = HostPeerASN
    extra = 0


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "country", "continent", "state", "enabled", "private", "verified_at", "created_at")
    list_filter = ("state", "enabled", "private", "continent", "country")
    search_fields = ("name", "site__name", "site__owner__username")
    readonly_fields = ("continent", "verification_token", "verified_at", "state_changed_at", "created_at", "updated_at")
    list_select_related = ("site",)
    inlines = [HostURLInline, NetblockInline, HostCountryInline, HostPeerASNInline]


@admin.register(HostURL)
class HostURLAdmin(admin.ModelAdmin):
    list_display = (
        "url",
        "host",
        "collection",
        "scheme",
        "probe_state",
        "probe_lag_seconds",
        "probed_at",
        "auto_disabled",
    )
    list_filter = ("scheme", "probe_state", "auto_disabled", "collection")
    search_fields = ("url", "host__name")
    list_select_related = ("host", "collection")


@admin.register(Netblock)
class NetblockAdmin(admin.ModelAdmin):
    list_display = ("cidr", "host", "created_at")
    search_fields = ("cidr", "host__name")


@admin.register(HostCountry)
class HostCountryAdmin(admin.ModelAdmin):
    list_display = ("country", "host")
    list_filter = ("country",)
    search_fields = ("host__name",)


@admin.register(HostPeerASN)
class HostPeerASNAdmin(admin.ModelAdmin):
    list_display = ("asn", "host")
    search_fields = ("host__name", "=asn")
