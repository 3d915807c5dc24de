"""Reading outcomes: the same rows feed the page, the payroll export and the API."""

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.compliance.models import Consequence, DepartmentOutcome, Standing
from learntrace.core.numbers import hours, hours_text
from learntrace.org.access import visible_departments, visible_employees

STATUSES = ("compliant", "non_compliant", "pending")


def standings_for(user, period, *, department=None, status: str = ""):
    """The standings of a period the user may read, with optional filters."""
    standings = (Standing.objects.filter(period=period, employee__in=visible_employees(user))
                 .select_related("employee", "department").order_by("department_path", "employee__employee_no"))
    if department is not None:
        standings = standings.filter(department_path__startswith=department.path)
    if status == "compliant":
        standings = standings.filter(compliant=True)
    elif status == "non_compliant":
        standings = standings.filter(compliant=False)
    elif status == "pending":
        standings = standings.filter(compliant__isnull=True)
    return standings


def summary(standings) -> dict:
    return standings.order_by().aggregate(
        people=Count("pk"), compliant_count=Count("pk", filter=Q(compliant=True)),
        non_compliant_count=Count("pk", filter=Q(compliant=False)), complete_count=Count("pk", filter=Q(complete=True)))


def department_outcomes_for(user, period):
    return (DepartmentOutcome.objects.filter(period=period, department__in=visible_departments(user))
            .select_related("department").order_by("department__path"))


def describe_consequence(entry: dict) -> str:
    name = entry.get("name", "")
    kind = entry.get("kind")
    if kind == Consequence.Kind.FLAG:
        text = _("%(name)s: eligible") if entry.get("eligible") else _("%(name)s: not eligible")
        text = text % {"name": name}
    elif kind in (Consequence.Kind.PERCENT, Consequence.Kind.SCORE):
        value = entry.get("value", "0").rstrip("0").rstrip(".")
        sign = "" if value.startswith("-") else "+"
        text = f"{name} {sign}{value}{'%' if kind == Consequence.Kind.PERCENT else ''}"
    else:
        text = name
    if entry.get("window"):
        text = f"{text} ({entry['window']})"
    return text


class MissingWords:
    """`Standing.missing` in words, with the translated phrases looked up once: exports call it
    for a hundred thousand rows."""

    def __init__(self):
        self.hours = {"total": _("%(hours)s h in total"), "video": _("%(hours)s h of video"),
                      "document": _("%(hours)s h of documents"), "offline": _("%(hours)s h of offline meetings"),
                      "live": _("%(hours)s h of live meetings")}
        self.course, self.reflection = _("course “%(title)s”"), _("reflection")
        self.exam = _("exam “%(title)s”")
        self.credits, self.credits_of = _("%(credits)s credits"), _("%(credits)s credits (%(scope)s)")
        self.credit_hours = _("%(hours)s h of continuing education")
        self.professional_share = _("professional subjects: at least %(share)s of the hours")

    def __call__(self, missing: list) -> str:
        return "; ".join(self.one(entry) for entry in missing)

    def one(self, entry) -> str:
        if not isinstance(entry, dict):
            return str(entry)
        what = entry.get("what")
        if what == "hours":
            text = self.hours.get(entry.get("kind"), self.hours["total"])
            return text % {"hours": hours_text(entry.get("owed"))}
        if what == "course":
            return self.course % {"title": entry.get("title", "")}
        if what == "credits" and entry.get("rule") == "hours":
            return self.credit_hours % {"hours": f"{int(entry.get('owed') or 0) / 3600:.1f}"}
        if what == "credits" and entry.get("rule") == "professional_share":
            return self.professional_share % {"share": entry.get("share", "")}
        if what == "exam":
            return self.exam % {"title": entry.get("title", "")}
        if what == "credits":
            scope = " ".join(part for part in (entry.get("credit_class"), entry.get("category")) if part)
            return (self.credits_of if scope else self.credits) % {"credits": entry.get("owed"), "scope": scope}
        if what == "reflection":
            return self.reflection
        return what or ""


def describe_missing(entry: dict) -> str:
    return MissingWords().one(entry)


def verdict(standing: Standing) -> str:
    if standing.compliant is None:
        return _("not judged (joined after the due day)") if standing.joined_after_due else _("not judged")
    return _("compliant") if standing.compliant else _("non-compliant")


def export_headers() -> list[str]:
    return [_("employee number"), _("name"), _("department"), _("position"), _("plan"), _("period"),
            _("hours"), _("target hours"), _("hours owed"), _("complete"), _("completion time"),
            _("compliant"), _("missing"), _("consequences"), _("score"), _("recognitions")]


def export_rows(standings, period_label: str):
    """One row per person, in the order of the headers; reads in chunks."""
    missing_words = MissingWords()
    for standing in standings.select_related("plan").iterator(chunk_size=2000):
        employee = standing.employee
        completed = timezone.localtime(standing.completed_at).strftime("%Y-%m-%d %H:%M") \
            if standing.completed_at else ""
        yield [employee.employee_no, employee.name, standing.department.name, employee.position,
               standing.plan.name, period_label, float(hours(standing.total_seconds)),
               float(hours(standing.target_seconds)), float(hours(standing.owed_seconds)),
               _("yes") if standing.complete else _("no"), completed, verdict(standing),
               missing_words(standing.missing),
               "; ".join(describe_consequence(c) for c in standing.consequences),
               float(standing.score), ", ".join(standing.recognitions)]


def recognitions_of(employee) -> list[dict]:
    """Titles a person earned ("培训之星"), newest first, for their profile."""
    earned = []
    for standing in (Standing.objects.filter(employee=employee, compliant__isnull=False)
                     .select_related("period__plan").order_by("-period_starts_at")):
        for title in standing.recognitions:
            earned.append({"title": title, "period": standing.period})
    return earned
