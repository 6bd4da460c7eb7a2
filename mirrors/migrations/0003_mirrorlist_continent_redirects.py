"""Default continent redirects: countries whose clients are better served by another continent's mirrors.

GeoIP places these on a continent with few mirrors or with poorer paths to them than to Europe, where their
submarine cables and transit land: Israel, Cyprus, Turkey and the South Caucasus (Asia in GeoIP) and
North Africa. Admins edit them in the admin; the reverse migration removes only rows still as seeded.
"""

from django.db import migrations

DEFAULT_REDIRECTS = {
    "IL": "EU", "CY": "EU", "TR": "EU", "GE": "EU", "AM": "EU", "AZ": "EU",
    "EG": "EU", "LY": "EU", "TN": "EU", "DZ": "EU", "MA": "EU",
}  # fmt: skip


def seed(apps, schema_editor):
    ContinentRedirect = apps.get_model("mirrors", "ContinentRedirect")
    for country, continent in DEFAULT_REDIRECTS.items():
        ContinentRedirect.objects.get_or_create(country=country, defaults={"continent": continent})


def unseed(apps, schema_editor):
    ContinentRedirect = apps.get_model("mirrors", "ContinentRedirect")
    for country, continent in DEFAULT_REDIRECTS.items():
        ContinentRedirect.objects.filter(country=country, continent=continent).delete()


class Migration(migrations.Migration):
    dependencies = [("mirrors", "0002_mirrorlist_build_flag")]

    operations = [migrations.RunPython(seed, unseed)]
