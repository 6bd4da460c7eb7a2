"""The mirror registry: sites, hosts, their URLs and IP restrictions, probe history and mirrorlist snapshots.

Thin models: data and invariants only. State transitions live in mirrors.services, reads in mirrors.selectors.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_countries.fields import CountryField

from mirrors.mirrorlist.models import MirrorlistBuildFlag  # noqa: F401 -- the mirrorlist's own model


class Site(models.Model):
    """An organisation that runs one or more mirror hosts; owned by an operator, with co-admins."""

    name = models.CharField(max_length=200, unique=True)
    organization_url = models.URLField(max_length=500, blank=True)
    contact_email = models.EmailField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_sites")
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="admin_sites")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SiteInvitation(models.Model):
    """An invitation for a co-admin of a site; accepted by following its link while signed in."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} → {self.site}"


class HostState(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    DISABLED = "disabled", "Disabled by an admin"


class Host(models.Model):
    """One machine (a fully qualified name) of a site that serves collections at one or more URLs."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="hosts")
    name = models.CharField(max_length=253, unique=True, help_text="Fully qualified host name")
    country = CountryField()
    continent = models.CharField(max_length=2, help_text="Derived from the country")
    bandwidth_mbps = models.PositiveIntegerField(default=100)
    asn = models.PositiveBigIntegerField(null=True, blank=True, help_text="The host's own autonomous system")
    private = models.BooleanField(
        default=False, help_text="Listed only to clients inside its netblocks or peer ASNs, never in public lists"
    )
    # The operator's own switch, on top of the moderation state.
    enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=16, choices=HostState.choices, default=HostState.PENDING, db_index=True)
    state_reason = models.TextField(blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # Proof of control: the operator serves this token under one of the host's URLs.
    verification_token = models.CharField(max_length=64, unique=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    # Where the host is, for distance weighting within a mirrorlist tier (from GeoIP of its address, or set).
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class URLScheme(models.TextChoices):
    HTTPS = "https", "https"
    HTTP = "http", "http"
    RSYNC = "rsync", "rsync"


class ProbeState(models.TextChoices):
    """What the last probe of a URL found; defined once for probes, pages, the API and the mirrorlist."""

    UNKNOWN = "unknown", "Not probed yet"
    CURRENT = "current", "Current"
    BEHIND = "behind", "Behind"
    BROKEN = "broken", "Broken"
    CORRUPT = "corrupt", "Corrupt"
    INCOMPLETE = "incomplete", "Incomplete"


class HostURL(models.Model):
    """The base URL at which a host serves one collection's tree, over one scheme."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="urls")
    collection = models.ForeignKey("metadata.Collection", on_delete=models.CASCADE, related_name="host_urls")
    url = models.CharField(max_length=500, help_text="Normalised, with a trailing slash")
    scheme = models.CharField(max_length=8, choices=URLScheme.choices)
    # Switched off by the probes after PROBE_DISABLE_AFTER consecutive failures; back on after a good probe.
    auto_disabled = models.BooleanField(default=False)
    auto_disabled_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # The latest probe, kept here so pages and the mirrorlist build read one row per URL.
    probe_state = models.CharField(max_length=16, choices=ProbeState.choices, default=ProbeState.UNKNOWN)
    probe_reason = models.TextField(blank=True)
    probe_revision = models.PositiveIntegerField(null=True, blank=True)
    probe_revisions_behind = models.PositiveIntegerField(null=True, blank=True)
    probe_lag_seconds = models.PositiveIntegerField(null=True, blank=True)
    probed_at = models.DateTimeField(null=True, blank=True)
    next_probe_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Address families the probes reached the URL over (a host with both is listed to both).
    reachable_ipv4 = models.BooleanField(default=True)
    reachable_ipv6 = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["host", "collection", "scheme"]
        constraints = [
            models.UniqueConstraint(fields=["host", "collection", "scheme"], name="hosturl_one_per_scheme"),
        ]

    def __str__(self) -> str:
        return self.url


class Netblock(models.Model):
    """An IP network whose clients are sent to this host first (and the only clients of a private host)."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="netblocks")
    cidr = models.CharField(max_length=49, help_text="Normalised network, e.g. 192.0.2.0/24 or 2001:db8::/32")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["host", "cidr"]
        constraints = [models.UniqueConstraint(fields=["host", "cidr"], name="netblock_unique_per_host")]

    def __str__(self) -> str:
        return self.cidr


class HostCountry(models.Model):
    """A country whose clients may be sent to this host; a host with none serves every country."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="allowed_countries")
    country = CountryField()

    class Meta:
        ordering = ["host", "country"]
        verbose_name_plural = "host countries"
        constraints = [models.UniqueConstraint(fields=["host", "country"], name="hostcountry_unique")]

    def __str__(self) -> str:
        return str(self.country)


class HostPeerASN(models.Model):
    """An autonomous system whose clients are sent to this host first; set by admins only."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="peer_asns")
    asn = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["host", "asn"]
        verbose_name = "peer ASN"
        constraints = [models.UniqueConstraint(fields=["host", "asn"], name="hostpeerasn_unique")]

    def __str__(self) -> str:
        return f"AS{self.asn}"


class ContinentRedirect(models.Model):
    """Clients of this country are better served by another continent's mirrors (admin-editable)."""

    country = CountryField(unique=True)
    continent = models.CharField(max_length=2)

    def __str__(self) -> str:
        return f"{self.country} → {self.continent}"


class ProbeRun(models.Model):
    """One pass of the probes over the URLs that were due."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    urls = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    void = models.BooleanField(default=False, help_text="Most probes failed at once: nothing was switched off")
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"probe run {self.started_at:%Y-%m-%d %H:%M}"


class ProbeResult(models.Model):
    """The history of probes (and check-ins) of one URL, kept for PROBE_HISTORY_DAYS."""

    class Method(models.TextChoices):
        PROBE = "probe", "Probe"
        CHECKIN = "checkin", "Check-in"

    host_url = models.ForeignKey(HostURL, on_delete=models.CASCADE, related_name="probe_results")
    run = models.ForeignKey(ProbeRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="results")
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.PROBE)
    family = models.PositiveSmallIntegerField(default=0, help_text="4, 6, or 0 when not split by family")
    state = models.CharField(max_length=16, choices=ProbeState.choices)
    reason = models.TextField(blank=True)
    repomd_sha256 = models.CharField(max_length=64, blank=True)
    revision = models.PositiveIntegerField(null=True, blank=True)
    revisions_behind = models.PositiveIntegerField(null=True, blank=True)
    lag_seconds = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    checked_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["host_url", "-checked_at"], name="proberesult_url_time")]

    def __str__(self) -> str:
        return f"{self.host_url} {self.state} at {self.checked_at:%Y-%m-%d %H:%M}"


class MirrorlistSnapshot(models.Model):
    """One immutable, versioned mirrorlist table; web processes load the newest and cache it on local disk."""

    version = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField(help_text="The compressed table")

    class Meta:
        ordering = ["-version"]
        get_latest_by = "version"

    def __str__(self) -> str:
        return f"mirrorlist v{self.version}"
