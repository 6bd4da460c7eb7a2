"""factory_boy factories for the whole project, one block per part."""

from __future__ import annotations

import secrets

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from metadata.models import Collection, Revision
from mirrors.models import Host, HostState, HostURL, Netblock, ProbeState, Site, URLScheme

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
    continent = "EU"
    bandwidth_mbps = 1000
    state = HostState.PENDING
    verification_token = factory.LazyFunction(lambda: secrets.token_hex(16))

    class Params:
        approved = factory.Trait(state=HostState.APPROVED, verified_at=factory.LazyFunction(timezone.now))


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


# ---- mirrorlist (mirrors.mirrorlist) -------------------------------------------------------------------


class HostPeerASNFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "mirrors.HostPeerASN"

    host = factory.SubFactory(HostFactory)
    asn = factory.Sequence(lambda n: 64600 + n)


class HostCountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "mirrors.HostCountry"

    host = factory.SubFactory(HostFactory)
    country = "DE"
