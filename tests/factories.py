"""factory_boy factories for the whole project, one block per part."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from packaging.utils import canonicalize_name

from metadata.models import Collection, Revision
from mirrors.geo_tables import continent_of
from mirrors.models import (
    Host,
    HostCountry,
    HostPeerASN,
    HostState,
    HostURL,
    Netblock,
    ProbeState,
    Site,
    SiteInvitation,
    URLScheme,
)
from sync.blobstore import blob_path
from sync.models import File, Project, Upstream
from sync.sample_packages import SamplePackage, build_package
from sync.services import catalogue_next_serial

# ---- users ---------------------------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-1234")

    @factory.post_generation
    def saved(self, create: bool, extracted, **kwargs) -> None:
        if create:
            self.save()


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


# ---- upstreams and the catalogue (sync) ----------------------------------------------------------------


class UpstreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Upstream
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"upstream{n}")
    url = "https://upstream.example/simple/"


class ProjectFactory(factory.django.DjangoModelFactory):
    """A catalogue project; its change_serial is taken from the catalogue's counter, as every writer does."""

    class Meta:
        model = Project
        django_get_or_create = ("upstream", "normalized_name")

    upstream = factory.SubFactory(UpstreamFactory)
    name = factory.Sequence(lambda n: f"project{n}")
    normalized_name = factory.LazyAttribute(lambda project: canonicalize_name(project.name))
    change_serial = factory.LazyFunction(catalogue_next_serial)


class FileFactory(factory.django.DjangoModelFactory):
    """A stored catalogue file row with a made-up hash and no blob (see StoredFileFactory for a real one)."""

    class Meta:
        model = File

    project = factory.SubFactory(ProjectFactory)
    filename = factory.LazyAttributeSequence(lambda row, n: f"{row.project.normalized_name}-{n}.0.tar.gz")
    version = "1.0"
    package_type = File.PackageType.SDIST
    url = factory.LazyAttribute(lambda row: f"https://upstream.example/files/{row.filename}")
    sha256 = factory.LazyFunction(lambda: secrets.token_hex(32))
    upstream_sha256 = ""
    size = 10
    state = File.State.STORED


class StoredFileFactory(FileFactory):
    """A real sample package (`package`, a SamplePackage): built, put in the store, and recorded as stored."""

    class Meta:
        model = File
        django_get_or_create = ("project", "filename")

    class Params:
        package = SamplePackage("hello", "1.0")
        data = factory.LazyAttribute(lambda row: build_package(row.package))

    project = factory.LazyAttribute(
        lambda row: ProjectFactory(name=row.package.name, normalized_name=canonicalize_name(row.package.name))
    )
    filename = factory.LazyAttribute(lambda row: row.package.filename)
    version = factory.LazyAttribute(lambda row: row.package.version)
    package_type = factory.LazyAttribute(
        lambda row: File.PackageType.WHEEL if row.package.kind == "wheel" else File.PackageType.SDIST
    )
    sha256 = factory.LazyAttribute(lambda row: _stored(row.data))
    upstream_sha256 = factory.SelfAttribute("sha256")
    size = factory.LazyAttribute(lambda row: len(row.data))
    upload_time = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    requires_python = factory.LazyAttribute(lambda row: row.package.requires_python)


def _stored(data: bytes) -> str:
    """Put bytes in the store under their sha256; return it."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = blob_path(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return sha256


BASE_PACKAGES: tuple[SamplePackage, ...] = (
    SamplePackage("Hello_World", "1.0.0", summary="Says hello"),
    SamplePackage("Hello_World", "1.1.0"),
    SamplePackage("Hello_World", "1.1.0", kind="sdist"),
    SamplePackage("Hello_World", "2.0.0rc1"),
    SamplePackage("greeter", "0.3.0", requires_python=">=3.8", dependencies=("hello-world>=1.0",)),
    SamplePackage("greeter", "0.3.0", kind="sdist", requires_python=">=3.8"),
    SamplePackage("numbers", "2.1.0", tag="cp311-cp311-manylinux_2_17_x86_64"),
    SamplePackage("numbers", "2.1.0", tag="cp312-cp312-win_amd64"),
    SamplePackage("numbers", "2.1.0", kind="sdist"),
)


@dataclass
class Catalogue:
    """Changes to one upstream's catalogue as the sync makes them: each raises the project's change_serial."""

    upstream: Upstream

    def add(self, package: SamplePackage, *, upstream: Upstream | None = None, **file_fields) -> File:
        """Build, store and record one file (state stored), or update its row when it is there."""
        project = ProjectFactory(upstream=upstream or self.upstream, name=package.name)
        project.removed = False
        project.change_serial = catalogue_next_serial()
        project.save()
        values = vars(StoredFileFactory.stub(project=project, package=package))
        values.update(file_fields)
        del values["project"]
        file, _ = File.objects.update_or_create(project=project, filename=values.pop("filename"), defaults=values)
        return file

    def add_all(self, packages) -> list[File]:
        return [self.add(package) for package in packages]

    def touch(self, name: str) -> None:
        Project.objects.filter(normalized_name=canonicalize_name(name)).update(change_serial=catalogue_next_serial())

    def remove_project(self, name: str) -> None:
        """Make the project a tombstone, as the sync does."""
        Project.objects.filter(normalized_name=canonicalize_name(name)).update(
            removed=True, change_serial=catalogue_next_serial()
        )

    def remove_file(self, filename: str) -> None:
        file = File.objects.select_related("project").get(filename=filename)
        file.delete()
        Project.objects.filter(pk=file.project_id).update(change_serial=catalogue_next_serial())


def hostile_project(
    catalogue: Catalogue, normalized: str, *, filename: str, sha256: str, display: str | None = None
) -> File:
    """A row written straight into the database, as a bug or a hostile upstream could leave it."""
    project = Project.objects.create(
        upstream=catalogue.upstream,
        name=display or normalized,
        normalized_name=normalized,
        change_serial=catalogue_next_serial(),
    )
    return FileFactory(project=project, filename=filename, sha256=sha256, url="https://upstream.example/files/x")


def hostile_file(project: Project, *, filename: str, sha256: str) -> File:
    """Another such row, in an existing project."""
    Project.objects.filter(pk=project.pk).update(change_serial=catalogue_next_serial())
    return FileFactory(
        project=project, filename=filename, sha256=sha256, version="2.0", url="https://upstream.example/files/x"
    )


# ---- collections (metadata) ----------------------------------------------------------------------------


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"collection-{n}")
    title = factory.LazyAttribute(lambda collection: collection.slug.replace("-", " ").title())


class RevisionFactory(factory.django.DjangoModelFactory):
    """A published revision; the sha256 is made up unless given."""

    class Meta:
        model = Revision

    collection = factory.SubFactory(CollectionFactory)
    number = factory.Sequence(lambda n: n + 1)
    repomd_sha256 = factory.LazyFunction(lambda: secrets.token_hex(32))
    timestamp = factory.LazyFunction(timezone.now)


# ---- mirror registry (mirrors) -------------------------------------------------------------------------


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Mirror site {n}")
    contact_email = factory.Sequence(lambda n: f"mirror-admin{n}@example.org")
    owner = factory.SubFactory(UserFactory)


class HostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Host

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"mirror{n}.example.org")
    country = "DE"
    continent = factory.LazyAttribute(lambda host: continent_of(host.country))
    bandwidth_mbps = 1000
    state = HostState.PENDING
    verification_token = factory.LazyFunction(lambda: secrets.token_hex(16))

    class Params:
        approved = factory.Trait(state=HostState.APPROVED, verified_at=factory.LazyFunction(timezone.now))
        verified = factory.Trait(verified_at=factory.LazyFunction(timezone.now))


class HostURLFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HostURL

    host = factory.SubFactory(HostFactory)
    collection = factory.LazyFunction(lambda: Collection.objects.get(slug="full"))
    scheme = URLScheme.HTTPS
    url = factory.LazyAttribute(lambda row: f"{row.scheme}://{row.host.name}/pypi/{row.collection.slug}/")

    class Params:
        current = factory.Trait(
            probe_state=ProbeState.CURRENT, probe_lag_seconds=0, probed_at=factory.LazyFunction(timezone.now)
        )


class NetblockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Netblock

    host = factory.SubFactory(HostFactory)
    cidr = factory.Sequence(lambda n: f"198.51.{n % 256}.0/24")


class HostCountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HostCountry

    host = factory.SubFactory(HostFactory)
    country = "FR"


class HostPeerASNFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HostPeerASN

    host = factory.SubFactory(HostFactory)
    asn = factory.Sequence(lambda n: 3320 + n)


class SiteInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteInvitation

    site = factory.SubFactory(SiteFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    invited_by = factory.LazyAttribute(lambda invitation: invitation.site.owner)
