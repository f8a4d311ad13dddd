"""Each household's method becomes its first family-planning status (SPEC section 8): from
the month of its earliest join (or of its registration, without a membership)."""

from django.db import migrations


def first_statuses(apps, schema_editor):
    from households.register import insert_first_statuses

    insert_first_statuses(using=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("households", "0005_register")]

    operations = [migrations.RunPython(first_statuses, migrations.RunPython.noop)]
