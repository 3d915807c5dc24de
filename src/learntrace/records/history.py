"""Importing training records from before learntrace (paper sheets typed into a spreadsheet,
another system's export). The same rules as the organisation import: a dry run that lists
every row error, then an all-or-nothing import that checks every row again; importing the
same file twice adds nothing. The facts are marked `imported` and sealed like any other."""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.catalog.models import Category, Course, CreditClass
from learntrace.core.audit import record_change
from learntrace.core.months import local_zone
from learntrace.core.numbers import whole_number
from learntrace.org.importing import (
    FALSE_WORDS,
    TRUE_WORDS,
    ImportFileError,
    RowError,
    Table,
    parse_date,
    read_tables,
)
from learntrace.org.models import Employee
from learntrace.records.models import Completion, CreditedTime, Source
from learntrace.records.signals import completions_imported

HISTORY_COLUMNS = {
    "employee_no": (True, gettext_lazy("employee number"), ["工号", "员工编号"]),
    "course": (True, gettext_lazy("course"), ["课程", "课程名称"]),
    "date": (True, gettext_lazy("date"), ["日期", "培训日期", "完成日期"]),
    "hours": (False, gettext_lazy("hours"), ["学时", "时长"]),
    "completed": (False, gettext_lazy("completed"), ["是否完成", "完成"]),
    "credits": (False, gettext_lazy("credits"), ["学分"]),
    "credit_class": (False, gettext_lazy("credit class"), ["学分类别"]),
    "category": (False, gettext_lazy("category"), ["类别", "课程类别"]),
    "note": (False, gettext_lazy("provenance"), ["来源说明", "备注"]),
}
KINDS = (("history", HISTORY_COLUMNS, "employee_no"),)
MAX_HOURS = Decimal("1000")
HISTORY_IMPORT_LOCK = 0x4C54_4849  # PostgreSQL advisory lock key: imports of past records take turns


@dataclass
class HistoryResult:
    rows: int = 0
    facts: int = 0  # credited-time facts to add
    completions: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    return value


def _clean(row: dict, error, lookups) -> dict | None:
    ok = True

    def bad(column, message):
        nonlocal ok
        ok = False
        error(column, message)

    for key in ("employee_no", "course", "date"):
        if not row.get(key):
            bad(key, _("This column is required."))
    employee = lookups["employees"].get(row.get("employee_no", ""))
    if row.get("employee_no") and employee is None:
        bad("employee_no", _("No employee has the number “%(value)s”.") % {"value": row["employee_no"]})
    course_text = row.get("course", "")
    course = lookups["courses"].get(course_text)
    if course is None and course_text.startswith("#") and (course_id := whole_number(course_text[1:])) is not None:
        course = lookups["course_ids"].get(course_id)
    if course_text and course is None:
        bad("course", _("No course is called “%(value)s” (or give its number as #12).") % {"value": course_text})
    date = None
    if row.get("date"):
        try:
            date = parse_date(row["date"])
        except ValueError:
            bad("date", _("“%(value)s” is not a date; write it as 2024-03-01.") % {"value": row["date"]})
    hours = None
    if row.get("hours"):
        try:
            hours = _decimal(row["hours"])
            if not Decimal("0") <= hours <= MAX_HOURS:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            bad("hours", _("Hours must be a number from 0 to %(max)s.") % {"max": MAX_HOURS})
    credits = None
    if row.get("credits"):
        try:
            credits = _decimal(row["credits"])
            if not Decimal("0") <= credits <= Decimal("1000"):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            bad("credits", _("Credits must be a number from 0 to 1000."))
    completed = True
    if row.get("completed"):
        text = row["completed"].strip().lower()
        if text in TRUE_WORDS:
            completed = True
        elif text in FALSE_WORDS:
            completed = False
        else:
            bad("completed", _("Write 1 or 0 (是 or 否) for completed."))
    credit_class = category = None
    if row.get("credit_class"):
        credit_class = lookups["classes"].get(row["credit_class"])
        if credit_class is None:
            bad("credit_class", _("Unknown credit class “%(value)s”.") % {"value": row["credit_class"]})
    if row.get("category"):
        category = lookups["categories"].get(row["category"])
        if category is None:
            bad("category", _("Unknown category “%(value)s”.") % {"value": row["category"]})
    if not ok:
        return None
    seconds = int((hours if hours is not None else Decimal(course.duration_seconds) / 3600) * 3600)
    key = hashlib.sha256(f"{employee.pk}|{course.pk}|{date}|{seconds}|{completed}".encode()).hexdigest()
    return {"employee": employee, "course": course, "date": date, "seconds": seconds, "completed": completed,
            "credits": credits if credits is not None else course.credits,
            "credit_class": credit_class or course.credit_class, "category": category or course.category,
            "note": row.get("note", "")[:300], "key": key}


def _one_import_at_a_time() -> None:
    """A retried import (an integrator whose first call timed out) must see what the first wrote,
    not add the rows again: imports take turns until commit. SQLite's write transactions (IMMEDIATE)
    already do."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HISTORY_IMPORT_LOCK])


class HistoryImport:
    def __init__(self, path: Path, original_name: str):
        self.path, self.original_name = Path(path), original_name

    def dry_run(self) -> HistoryResult:
        return self._run(apply=False)

    def apply(self, *, actor) -> HistoryResult:
        try:
            with transaction.atomic():
                _one_import_at_a_time()
                result = self._run(apply=True)
                if not result.ok:
                    raise _Rollback
                record_change(actor=actor, action="import_history", object_type="records",
                              summary=self.original_name,
                              changes={"facts": (None, result.facts), "completions": (None, result.completions)})
                return result
        except _Rollback:
            return result

    def _tables(self) -> list[Table]:
        return read_tables(self.path, self.original_name, KINDS)

    def _run(self, *, apply: bool) -> HistoryResult:
        tables = self._tables()
        lookups = {
            "employees": {e.employee_no: e for e in Employee.objects.all()},
            "courses": {c.title: c for c in Course.objects.all()},
            "course_ids": {c.pk: c for c in Course.objects.all()},
            "classes": {c.code: c for c in CreditClass.objects.all()} | {c.name: c for c in CreditClass.objects.all()},
            "categories": {c.code: c for c in Category.objects.all()} | {c.name: c for c in Category.objects.all()},
        }
        seen = set(CreditedTime.objects.filter(source=Source.IMPORTED).values_list("details__key", flat=True))
        completed = set(Completion.objects.values_list("employee_id", "course_id"))
        result = HistoryResult()
        added: list[Completion] = []
        for table in tables:
            for row_number, row in table.open_rows():
                result.rows += 1

                def error(column, message, row_number=row_number, table=table):
                    result.errors.append(RowError(row_number, table.columns.get(column, column), message,
                                                  table.sheet).as_dict())

                values = _clean(row, error, lookups)
                if values is None:
                    continue
                if values["key"] in seen:
                    result.unchanged += 1
                    continue
                seen.add(values["key"])
                when = dt.datetime.combine(values["date"], dt.time(9, 0), tzinfo=local_zone())
                details = {"key": values["key"], "note": values["note"], "file": self.original_name}
                if values["seconds"]:
                    result.facts += 1
                    if apply:
                        CreditedTime.objects.create(
                            employee=values["employee"], course=values["course"], kind=values["course"].kind,
                            category=values["category"], seconds=values["seconds"], occurred_at=when,
                            source=Source.IMPORTED, details=details)
                pair = (values["employee"].pk, values["course"].pk)
                if values["completed"] and pair not in completed:
                    completed.add(pair)
                    result.completions += 1
                    if apply:
                        added.append(Completion.objects.create(
                            employee=values["employee"], course=values["course"], completed_at=when,
                            credits=values["credits"], credit_class=values["credit_class"],
                            category=values["category"], source=Source.IMPORTED))
        if result.rows == 0:
            raise ImportFileError(_("The file has a header but no data rows."))
        if added and result.ok:
            # Once for the whole file: a receiver stores its events in batches, not a query per row.
            completions_imported.send(sender=Completion, completions=added)
        return result
