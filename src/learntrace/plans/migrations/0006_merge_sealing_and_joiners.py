# Joins the removal of the facts' seal column and the plans' joiner policy, made side by side.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('plans', '0005_fact_rows_leave_sealing'),
        ('plans', '0005_joiner_policy'),
    ]

    operations = [
    ]
