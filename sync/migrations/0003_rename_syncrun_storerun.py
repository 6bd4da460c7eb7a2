# SyncRun records sync, verify and collect runs alike: StoreRun. RenameModel renames the table
# (sync_syncrun -> sync_storerun) and keeps every row.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sync", "0002_catalogue_details")]

    operations = [migrations.RenameModel(old_name="SyncRun", new_name="StoreRun")]
