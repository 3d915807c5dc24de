"""The two channels that need no credentials exist from the start: in-app and e-mail."""

from django.conf import settings
from django.db import migrations


def create(apps, schema_editor):
    Channel = apps.get_model("notify", "Channel")
    chinese = settings.LANGUAGE_CODE.startswith("zh")
    for kind, zh, en in [("inapp", "站内通知", "In-app notification"), ("email", "电子邮件", "E-mail")]:
        if not Channel.objects.filter(kind=kind).exists():
            Channel.objects.create(kind=kind, name=zh if chinese else en)


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
