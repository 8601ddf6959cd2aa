"""The staff records (``StaffAction`` and the two admin proxies) moved to ``apps.backoffice``.

State only: the table is kept and renamed by ``backoffice.0001_staff_records``, which also
moves the content types (so the permissions and the staff groups holding them stay as they
are).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0002_staff_groups")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ReviewItem"),
                migrations.DeleteModel(name="WithdrawalLock"),
                migrations.DeleteModel(name="StaffAction"),
            ],
            database_operations=[],
        )
    ]
