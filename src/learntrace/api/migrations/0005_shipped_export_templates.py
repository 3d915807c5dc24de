"""Two templates shipped with learntrace: the column sets provincial continuing-education
platforms commonly ask for in their bulk credit imports (ID number first, the project's number,
the employer). Admins adapt the headers to their own platform and save them under a new name."""

from django.db import migrations

PROVINCIAL_CSV = [
    ("national_id", "身份证号"), ("name", "姓名"), ("employer", "单位"), ("department", "科室"),
    ("project_number", "项目编号"), ("course", "项目名称"), ("credit_class", "学分类别"), ("credits", "学分"),
    ("hours", "学时"), ("date", "获得日期"), ("certificate_no", "证书编号"),
]
PROVINCIAL_XLSX = [
    ("name", "姓名"), ("national_id", "身份证号码"), ("employer", "工作单位"), ("project_number", "项目编号"),
    ("course", "项目名称"), ("credits", "学分"), ("date", "授予日期"), ("provider", "举办单位"),
]


def ship(apps, schema_editor):
    template = apps.get_model("api", "ExportTemplate")
    for name, file_format, columns in (("省级继教平台 · 学分导入（CSV）", "csv", PROVINCIAL_CSV),
                                       ("省级继教平台 · 项目学员名单（XLSX）", "xlsx", PROVINCIAL_XLSX)):
        template.objects.update_or_create(name=name, defaults={
            "file_format": file_format, "shipped": True,
            "columns": [{"key": key, "header": header} for key, header in columns]})


def unship(apps, schema_editor):
    apps.get_model("api", "ExportTemplate").objects.filter(shipped=True).delete()


class Migration(migrations.Migration):
    dependencies = [("api", "0004_export_templates")]
    operations = [migrations.RunPython(ship, unship)]
