from django.db import migrations


def create_full_collection(apps, schema_editor):
    Collection = apps.get_model("metadata", "Collection")
    Collection.objects.get_or_create(
        slug="full",
        defaults={"title": "Full mirror", "description": "Every project and file the origin holds, unfiltered."},
    )


class Migration(migrations.Migration):
    dependencies = [("metadata", "0001_initial")]
    operations = [migrations.RunPython(create_full_collection, migrations.RunPython.noop)]
