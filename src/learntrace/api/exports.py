"""The continuing-education export: credits per person and year as XLSX or CSV, with the
columns and headers the admin maps (the national platforms' import formats are not public).
Each export remembers the completions it held, so the next one can leave them out."""


from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.api.models import CreditExport, ExportedCompletion, ExportTemplate
from learntrace.core.audit import record_change
from learntrace.core.months import local_zone, year_bounds
from learntrace.core.spreadsheets import XLSX_TYPE, KeepAsText, csv_lines, xlsx_bytes
from learntrace.org.access import roles_of
from learntrace.org.models import employers, inherited_employer
from learntrace.records import effective
from learntrace.records.models import Completion

COLUMNS = {
    "national_id": gettext_lazy("ID number"),
    "name": gettext_lazy("name"),
    "employee_no": gettext_lazy("employee number"),
    "employer": gettext_lazy("employer"),
    "department": gettext_lazy("department"),
    "course": gettext_lazy("course"),
    "project_number": gettext_lazy("CME project number"),
    "hours": gettext_lazy("hours"),
    "credit_class": gettext_lazy("credit class"),
    "credits": gettext_lazy("credits"),
    "date": gettext_lazy("date"),
    "provider": gettext_lazy("provider"),
    "certificate_no": gettext_lazy("certificate number"),
}
DEFAULT_COLUMNS = ["national_id", "name", "course", "credit_class", "credits", "date", "provider"]
FORMATS = ("xlsx", "csv")


def completions_of_year(year: int, *, only_new: bool):
    start, end = year_bounds(year)
    found = (effective.completions().filter(completed_at__gte=start, completed_at__lt=end, credits__gt=0)
             .select_related("employee", "course", "credit_class").order_by("employee__employee_no", "completed_at"))
    if only_new:
        found = found.exclude(pk__in=ExportedCompletion.objects.values("completion_id"))
    return found


def _check(*, actor, year, file_format, columns) -> None:
    errors = {}
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = _("Choose a year between 2000 and 2100.")
    if file_format not in FORMATS:
        errors["file_format"] = _("Choose XLSX or CSV.")
    keys = [c["key"] for c in columns]
    if not keys:
        errors["columns"] = _("Choose at least one column.")
    elif any(k not in COLUMNS for k in keys) or len(set(keys)) != len(keys):
        errors["columns"] = _("Each column may be chosen once.")
    elif "national_id" in keys and not roles_of(actor).is_admin:
        errors["columns"] = _("Only training admins may export ID numbers.")
    elif any(not c["header"].strip() or len(c["header"]) > 100 for c in columns):
        errors["columns"] = _("Every chosen column needs a header of at most 100 characters.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_export(*, actor, year: int, file_format: str, columns: list[dict], provider: str = "",
                  only_new: bool = False) -> CreditExport:
    """Record an export of the year's credits (all, or those not exported before)."""
    _check(actor=actor, year=year, file_format=file_format, columns=columns)
    completions = list(completions_of_year(year, only_new=only_new).values_list("pk", flat=True))
    if not completions:
        raise ValidationError(_("There are no credits to export for %(year)d.") % {"year": year})
    export = CreditExport.objects.create(year=year, file_format=file_format, columns=columns,
                                         provider=provider.strip()[:200], only_new=only_new,
                                         row_count=len(completions), created_by=actor)
    ExportedCompletion.objects.bulk_create([ExportedCompletion(export=export, completion_id=pk) for pk in completions])
    record_change(actor=actor, action="export", obj=export, summary=f"{year}: {len(completions)}")
    return export


def _value(key: str, completion: Completion, provider: str, *, csv: bool = False, named: dict | None = None):
    if key == "national_id":
        return KeepAsText(completion.employee.national_id)
    if key == "employer":
        return inherited_employer(completion.employee.department, named or {})
    if key == "department":
        return completion.employee.department.name
    if key == "project_number":
        return completion.course.project_number
    if key == "hours":
        hours = completion.course.credit_hours
        return float(hours) if hours is not None else ""
    if key == "certificate_no":
        return completion.certificate_number
    if key == "name":
        return completion.employee.name
    if key == "employee_no":
        return completion.employee.employee_no
    if key == "course":
        return completion.course.title
    if key == "credit_class":
        return completion.credit_class.name if completion.credit_class_id else ""
    if key == "credits":
        return float(completion.credits)
    if key == "date":
        day = timezone.localtime(completion.completed_at, local_zone()).date()
        return day.isoformat() if csv else day  # a real date in XLSX
    return provider


def render(export: CreditExport) -> tuple[bytes, str, str]:
    """The export's file (bytes, content type, file name), rebuilt from the completions it holds."""
    completions = (Completion.objects.filter(exports__export=export)
                   .select_related("employee__department", "course", "credit_class")
                   .order_by("employee__employee_no", "completed_at"))
    headers = [c["header"] for c in export.columns]
    named = employers()
    csv = export.file_format == "csv"
    rows = ([_value(c["key"], completion, export.provider, csv=csv, named=named) for c in export.columns]
            for completion in completions)
    name = f"credits-{export.year}-{export.pk}.{export.file_format}"
    if csv:
        return "".join(csv_lines(headers, rows)).encode("utf-8"), "text/csv; charset=utf-8", name
    return xlsx_bytes(headers, rows, sheet_name=str(export.year), date_format="yyyy-mm-dd"), XLSX_TYPE, name


@transaction.atomic
def save_template(*, actor, name: str, file_format: str, columns: list[dict]) -> ExportTemplate:
    """Save (or replace) an admin's template; the shipped ones stay as shipped."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError(_("Give the template a name of at most 100 characters."))
    _check(actor=actor, year=2000, file_format=file_format, columns=columns)
    template = ExportTemplate.objects.filter(name=name).first() or ExportTemplate(name=name, created_by=actor)
    if template.shipped:
        raise ValidationError(_("A shipped template keeps its name; save yours under another name."))
    template.file_format, template.columns = file_format, columns
    template.save()
    record_change(actor=actor, action="save_export_template", obj=template, summary=name)
    return template
