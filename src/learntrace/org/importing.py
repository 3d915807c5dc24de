"""Importing departments and employees from XLSX or CSV.

The same code runs the dry run and the real import: it streams the file in
chunks, so memory stays bounded whatever the number of rows, and the real
import runs inside one transaction and re-checks every row, so that it is
all-or-nothing even if the database changed since the dry run.

A file holds a department table, an employee table, or both (an XLSX with two
sheets). Headers may be the English keys of the template or their Chinese names.
"""

import csv
import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.core.audit import record_change, record_changes
from learntrace.core.crypto import mask
from learntrace.core.spreadsheets import csv_bytes, xlsx_sheets_bytes
from learntrace.org.models import Department, Employee, Level
from learntrace.org.services import department_save
from learntrace.org.signals import employees_changed
from learntrace.org.xlsx_guard import RejectedSpreadsheet, check_xlsx_archive

User = get_user_model()

CHUNK_ROWS = 1000
MAX_REPORTED_ERRORS = 1000
MAX_REPORTED_CHANGES = 1000

DEPARTMENT_COLUMNS = {
    "code": (True, gettext_lazy("department code"), ["部门编码", "部门代码", "编码"]),
    "name": (True, gettext_lazy("department name"), ["部门名称", "名称"]),
    "parent_code": (False, gettext_lazy("parent department code"), ["上级部门编码", "上级编码"]),
}
EMPLOYEE_COLUMNS = {
    "employee_no": (True, gettext_lazy("employee number"), ["工号", "员工编号"]),
    "name": (True, gettext_lazy("name"), ["姓名"]),
    "department_code": (True, gettext_lazy("department code"), ["部门编码", "部门代码"]),
    "position": (False, gettext_lazy("position"), ["职位", "岗位"]),
    "level": (False, gettext_lazy("level"), ["职级", "级别"]),
    "tags": (False, gettext_lazy("tags"), ["标签"]),
    "email": (False, gettext_lazy("e-mail"), ["邮箱", "电子邮件"]),
    "mobile": (False, gettext_lazy("mobile"), ["手机", "手机号"]),
    "dingtalk_user_id": (False, gettext_lazy("DingTalk user id"), ["钉钉用户ID", "钉钉ID"]),
    "wecom_user_id": (False, gettext_lazy("WeCom user id"), ["企业微信用户ID", "企业微信ID"]),
    "feishu_user_id": (False, gettext_lazy("Feishu user id"), ["飞书用户ID", "飞书ID"]),
    "hire_date": (False, gettext_lazy("hire date"), ["入职日期"]),
    "active": (False, gettext_lazy("active"), ["在职", "是否在职"]),
    "national_id": (False, gettext_lazy("national ID number"), ["身份证号", "身份证号码"]),
}
LEVEL_ALIASES = {
    "staff": Level.STAFF, "员工": Level.STAFF, "职员": Level.STAFF,
    "manager": Level.MANAGER, "经理": Level.MANAGER, "中层经理": Level.MANAGER,
    "department_head": Level.DEPARTMENT_HEAD, "department head": Level.DEPARTMENT_HEAD,
    "科室主任": Level.DEPARTMENT_HEAD, "部门负责人": Level.DEPARTMENT_HEAD, "主任": Level.DEPARTMENT_HEAD,
    "executive": Level.EXECUTIVE, "高管": Level.EXECUTIVE, "院领导": Level.EXECUTIVE,
}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "在职"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "离职"}
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def _unusable_password() -> str:
    # What make_password(None) makes, with one urandom call instead of forty random.choice calls.
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(20)


UNEXPECTED_ERROR = gettext_lazy("The file could not be processed because of an unexpected error; nothing was "
                                "written. The error is in the server log.")


class ImportFileError(Exception):
    """The file as a whole cannot be read (wrong type, empty, malformed, missing column)."""


@dataclass
class RowError:
    row: int
    column: str
    message: str
    sheet: str = ""

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": str(self.message), "sheet": self.sheet}


@dataclass
class ImportResult:
    counts: dict = field(default_factory=lambda: {
        "departments_created": 0, "departments_updated": 0, "departments_unchanged": 0,
        "employees_created": 0, "employees_updated": 0, "employees_unchanged": 0,
        "employees_deactivated": 0,
    })
    errors: list = field(default_factory=list)
    error_count: int = 0
    total_rows: int = 0
    # What an update changes, per department or employee: {"sheet", "row", "kind", "key", "name",
    # "fields": [[column, old, new], ...]}, values made for showing (national ID masked).
    changed_rows: list = field(default_factory=list)
    changed_row_count: int = 0

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error.as_dict())

    def add_change(self, change: dict) -> None:
        self.changed_row_count += 1
        if len(self.changed_rows) < MAX_REPORTED_CHANGES:
            self.changed_rows.append(change)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def changes(self) -> int:
        c = self.counts
        return (c["departments_created"] + c["departments_updated"] + c["employees_created"]
                + c["employees_updated"] + c["employees_deactivated"])


class _Rollback(Exception):
    pass


# ---------------------------------------------------------------- reading files


@dataclass
class Table:
    kind: str  # "departments" or "employees"
    sheet: str
    columns: dict  # canonical key -> header text as written in the file
    open_rows: Callable[[], Iterator[tuple[int, dict]]]
    row_count: int


def _canonical(header: str, columns: dict) -> str | None:
    text = re.sub(r"\s+", "", str(header or "")).lower().rstrip("*")
    for key, (_required, _label, aliases) in columns.items():
        if text in {key, key.replace("_", ""), *(a.lower() for a in aliases)}:
            return key
    return None


ORGANISATION_KINDS = (("employees", EMPLOYEE_COLUMNS, "employee_no"), ("departments", DEPARTMENT_COLUMNS, "code"))


def _classify(headers: list, sheet: str, kinds=ORGANISATION_KINDS) -> tuple[str, dict] | None:
    """Decide which kind of table a header row belongs to (by its marker column)."""
    for kind, columns, marker in kinds:
        mapping = {}
        for header in headers:
            key = _canonical(header, columns)
            if key and key not in mapping:
                mapping[key] = str(header).strip()
        if marker in mapping:
            missing = [str(columns[k][1]) for k, spec in columns.items() if spec[0] and k not in mapping]
            if missing:
                raise ImportFileError(
                    _("Sheet “%(sheet)s” is missing the required column(s): %(columns)s.")
                    % {"sheet": sheet, "columns": ", ".join(missing)}
                )
            return kind, mapping
    return None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # employee numbers typed as numbers in Excel
    return str(value).strip()


def _rows_from(iterable, header_index: dict) -> Iterator[tuple[int, dict]]:
    for row_number, values in iterable:
        texts = [_cell_text(v) for v in values]
        if not any(texts):
            continue
        yield row_number, {
            key: (texts[index] if index < len(texts) else "") for key, index in header_index.items()
        }


def _xlsx_tables(path: Path, kinds=ORGANISATION_KINDS) -> list[Table]:
    from openpyxl import load_workbook  # imported here: only XLSX imports need it

    try:
        check_xlsx_archive(path)
    except RejectedSpreadsheet as exc:
        raise ImportFileError(str(exc)) from exc
    damaged = _("The XLSX file is damaged or not really an XLSX file.")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # whatever openpyxl or its XML parser make of a malformed file
        raise ImportFileError(damaged) from exc
    tables = []
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if not header or not any(_cell_text(h) for h in header):
                continue
            classified = _classify(list(header), sheet.title, kinds)
            if classified is None:
                continue
            kind, mapping = classified
            positions = {str(h).strip(): i for i, h in enumerate(header) if h is not None}
            header_index = {key: positions[text] for key, text in mapping.items()}
            title = sheet.title

            def open_rows(title=title, header_index=header_index):
                try:
                    book = load_workbook(path, read_only=True, data_only=True)
                except Exception as exc:
                    raise ImportFileError(damaged) from exc
                try:
                    numbered = enumerate(book[title].iter_rows(values_only=True, min_row=2), start=2)
                    yield from _rows_from(numbered, header_index)
                except ImportFileError:
                    raise
                except Exception as exc:
                    raise ImportFileError(damaged) from exc
                finally:
                    book.close()

            row_count = max((sheet.max_row or 1) - 1, 0)
            if row_count == 0:
                # Some writers leave the sheet's dimension at "A1": count the rows instead.
                row_count = sum(1 for values in rows if any(v is not None for v in values))
            tables.append(Table(kind, title, mapping, open_rows, row_count))
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(damaged) from exc
    finally:
        workbook.close()
    return tables


def _csv_encoding(path: Path) -> str:
    # Excel in Chinese locales saves CSV as GB18030; everything else should be UTF-8.
    with path.open("rb") as handle:
        sample = handle.read(1 << 20)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            sample.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is not an error.
            if exc.start >= len(sample) - 4 and encoding == "utf-8-sig":
                return encoding
    raise ImportFileError(_("The CSV file is neither UTF-8 nor GB18030 text."))


def _csv_tables(path: Path, kinds=ORGANISATION_KINDS) -> list[Table]:
    encoding = _csv_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        try:
            header = next(csv.reader(handle), None)
            row_count = sum(1 for _line in handle)
        except csv.Error as exc:
            raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc
    if not header or not any(h.strip() for h in header):
        raise ImportFileError(_("The file is empty."))
    classified = _classify(header, "CSV", kinds)
    if classified is None:
        raise ImportFileError(
            _("The header row has neither an “employee_no” nor a “code” column; use the template.")
        )
    kind, mapping = classified
    positions = {h.strip(): i for i, h in enumerate(header)}
    header_index = {key: positions[text] for key, text in mapping.items()}

    def open_rows():
        with path.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            try:
                # reader.line_num counts physical lines; rows are numbered as a spreadsheet shows them.
                yield from _rows_from(enumerate(reader, start=2), header_index)
            except csv.Error as exc:
                raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc

    return [Table(kind, "CSV", mapping, open_rows, row_count)]


def read_tables(path: Path, original_name: str, kinds=ORGANISATION_KINDS) -> list[Table]:
    suffix = Path(original_name).suffix.lower()
    if path.stat().st_size == 0:
        raise ImportFileError(_("The file is empty."))
    with path.open("rb") as handle:
        magic = handle.read(4)
    if suffix == ".xlsx":
        if magic[:2] != b"PK":
            raise ImportFileError(_("The XLSX file is damaged or not really an XLSX file."))
        tables = _xlsx_tables(path, kinds)
    elif suffix == ".csv":
        if magic[:2] == b"PK" or b"\x00" in magic:
            raise ImportFileError(_("This is not a CSV text file."))
        tables = _csv_tables(path, kinds)
    else:
        raise ImportFileError(_("Only .xlsx and .csv files can be imported (got “%(suffix)s”).")
                              % {"suffix": suffix or original_name})
    if not tables:
        raise ImportFileError(_("No sheet has a department or employee header row; use the template."))
    kinds = [t.kind for t in tables]
    for kind in set(kinds):
        if kinds.count(kind) > 1:
            raise ImportFileError(_("The file has more than one %(kind)s sheet.") % {"kind": kind})
    if not any(t.row_count for t in tables):
        raise ImportFileError(_("The file has a header but no data rows."))
    return sorted(tables, key=lambda t: t.kind != "departments")


# ---------------------------------------------------------------- checking values


def valid_national_id(value: str) -> bool:
    """Mainland resident identity number: 18 characters with an ISO 7064 check character."""
    value = value.upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def parse_date(text: str) -> dt.date:
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError


def _clean_employee(row: dict, error: Callable[[str, str], None]) -> tuple[dict, bool]:
    """Turn one employee row into model field values, reporting every bad cell (not only the
    first); returns the values and whether all of them are good.

    Only the columns in the row are turned into values: a column that the file (or an API
    call) leaves out keeps what is stored, while an empty cell of a present column clears it
    (to the default for the level and active columns)."""
    ok = True

    def bad(column, message):
        nonlocal ok
        ok = False
        error(column, message)

    values = {}
    for key in ("employee_no", "name", "department_code"):
        if key in row and not row[key]:
            bad(key, _("This column is required."))
    if "employee_no" not in row:
        bad("employee_no", _("This column is required."))
    for key, limit in (("employee_no", 64), ("name", 200), ("department_code", 64), ("position", 200),
                       ("mobile", 32), ("dingtalk_user_id", 128), ("wecom_user_id", 128),
                       ("feishu_user_id", 128)):
        if key in row:
            values[key] = row[key]
            if len(values[key]) > limit:
                bad(key, _("At most %(limit)d characters.") % {"limit": limit})
    if "level" in row:
        level_text = row["level"].strip().lower()
        values["level"] = Level.STAFF
        if level_text:
            if level_text not in LEVEL_ALIASES:
                bad("level", _("Unknown level “%(value)s”; use staff, manager, department_head or executive.")
                    % {"value": row["level"]})
            else:
                values["level"] = LEVEL_ALIASES[level_text]
    if "tags" in row:
        values["tags"] = Employee.join_tags(re.split(r"[,，、;；]", row["tags"]))
        if len(values["tags"]) > 1000:
            bad("tags", _("At most %(limit)d characters.") % {"limit": 1000})
    if "email" in row:
        values["email"] = row["email"]
        if len(values["email"]) > 254:
            bad("email", _("At most %(limit)d characters.") % {"limit": 254})
        elif values["email"]:
            try:
                validate_email(values["email"])
            except ValidationError:
                bad("email", _("“%(value)s” is not a valid e-mail address.") % {"value": values["email"]})
    if "hire_date" in row:
        values["hire_date"] = None
        if row["hire_date"]:
            try:
                values["hire_date"] = parse_date(row["hire_date"])
            except ValueError:
                bad("hire_date", _("“%(value)s” is not a date; write it as 2024-03-01.") % {"value": row["hire_date"]})
    if "active" in row:
        active_text = row["active"].strip().lower()
        values["is_active"] = True
        if active_text:
            if active_text in TRUE_WORDS:
                values["is_active"] = True
            elif active_text in FALSE_WORDS:
                values["is_active"] = False
            else:
                bad("active", _("Write 1 or 0 (是 or 否) for active."))
    if "national_id" in row:
        values["national_id"] = row["national_id"].upper()
        if values["national_id"] and not valid_national_id(values["national_id"]):
            bad("national_id", _("Not a valid 18-character national ID number (the check digit does not match)."))
    return values, ok


# Employee fields under the name of their column, where the two differ.
FIELD_COLUMNS = {"department_id": "department_code", "is_active": "active"}


def _shown(column: str, value):
    """A value as the dry run shows it and the batch keeps it: JSON, national ID masked."""
    if column == "national_id":
        return mask(value)
    if column == "tags":
        return ", ".join(tag for tag in value.split(",") if tag)
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else value


def changed_rows_shown(changed_rows: list) -> list[dict]:
    """Changed rows as the import page shows them, in the current language."""
    shown = []
    for change in changed_rows:
        columns = DEPARTMENT_COLUMNS if change["kind"] == "department" else EMPLOYEE_COLUMNS
        fields = []
        for column, old, new in change["fields"]:
            label = columns[column][1] if column in columns else EMPLOYEE_COLUMNS[column][1]
            fields.append({"column": column, "label": label, "old": _shown_value(column, old),
                           "new": _shown_value(column, new), "cleared": new in ("", None)})
        shown.append({**change, "fields": fields})
    return shown


def _shown_value(column: str, value) -> str:
    if value in ("", None):
        return _("(empty)")
    if column == "active":
        return _("yes") if value else _("no")
    if column == "level" and value in Level.values:
        return str(Level(value).label)
    return str(value)


# ---------------------------------------------------------------- the import


ProgressCallback = Callable[[int, int], None]


class OrgImport:
    def __init__(self, path: Path, original_name: str, *, deactivate_missing: bool = False,
                 progress: ProgressCallback | None = None):
        self.path = Path(path)
        self.original_name = original_name
        self.deactivate_missing = deactivate_missing
        self.progress = progress or (lambda done, total: None)

    def dry_run(self) -> ImportResult:
        return self._run(apply=False, actor=None)

    def apply(self, *, actor) -> ImportResult:
        """Write everything or nothing. Returns the result; on errors nothing was written."""
        try:
            with transaction.atomic():
                result = self._run(apply=True, actor=actor)
                if not result.ok:
                    raise _Rollback
                transaction.on_commit(lambda: employees_changed.send(sender=Employee, employee_ids=None))
                record_change(actor=actor, action="import", object_type="organisation",
                              summary=self.original_name, changes={
                                  k: (None, v) for k, v in result.counts.items() if v
                              })
                return result
        except _Rollback:
            return result

    def _tables(self) -> list[Table]:
        return read_tables(self.path, self.original_name)

    # The whole pass: departments first (few rows, held in memory), then employees in chunks.
    def _run(self, *, apply: bool, actor) -> ImportResult:
        result = ImportResult()
        tables = self._tables()
        result.total_rows = sum(t.row_count for t in tables)
        self._done = 0
        file_departments: dict[str, dict] = {}
        for table in tables:
            if table.kind == "departments":
                file_departments = self._departments(table, result, apply=apply, actor=actor)
        seen_numbers: set[str] = set()
        for table in tables:
            if table.kind == "employees":
                self._employees(table, result, file_departments, seen_numbers, apply=apply, actor=actor)
        if self.deactivate_missing and any(t.kind == "employees" for t in tables):
            self._deactivate_missing(result, seen_numbers, apply=apply and result.ok, actor=actor)
        self.progress(result.total_rows, result.total_rows)
        return result

    def _tick(self, rows: int, total: int) -> None:
        self._done += rows
        self.progress(min(self._done, total), total)

    def _departments(self, table: Table, result: ImportResult, *, apply: bool, actor) -> dict:
        rows: dict[str, dict] = {}
        # Rows already in error still have their parent checked, so that all their errors show at once.
        rejected_parents: list[tuple[int, str]] = []
        for row_number, row in table.open_rows():
            def error(column, message, row_number=row_number):
                result.add_error(RowError(row_number, table.columns.get(column, column), message, table.sheet))

            code = row.get("code", "")
            # None: the column is left out, so an existing department keeps its name or parent.
            name, parent_code = row.get("name"), row.get("parent_code")
            if not code:
                error("code", _("This column is required."))
            if name is not None and not name:
                error("name", _("This column is required."))
            if len(code) > 64:
                error("code", _("At most %(limit)d characters.") % {"limit": 64})
            if name and len(name) > 200:
                error("name", _("At most %(limit)d characters.") % {"limit": 200})
            if code and code in rows:
                error("code", _("Department code “%(code)s” appears twice (first in row %(row)d).")
                      % {"code": code, "row": rows[code]["row"]})
                rejected_parents.append((row_number, parent_code or ""))
            elif code and name != "":
                rows[code] = {"row": row_number, "name": name, "parent_code": parent_code}
            else:
                rejected_parents.append((row_number, parent_code or ""))
            self._tick(1, result.total_rows)

        existing = {d.code: d for d in Department.objects.select_related("parent")}
        for code, spec in list(rows.items()):
            current = existing.get(code)
            if spec["parent_code"] is None:
                spec["parent_code"] = current.parent.code if current is not None and current.parent_id else ""
            if spec["name"] is None:
                if current is None:
                    result.add_error(RowError(spec["row"], table.columns.get("name", "name"),
                                              _("A new department needs a name."), table.sheet))
                    rejected_parents.append((spec["row"], spec["parent_code"]))
                    del rows[code]
                    continue
                spec["name"] = current.name
        parents = {code: (d.parent.code if d.parent_id else "") for code, d in existing.items()}
        parents.update({code: spec["parent_code"] for code, spec in rows.items()})
        for row_number, parent_code in rejected_parents:
            if parent_code and parent_code not in parents:
                result.add_error(RowError(row_number, table.columns.get("parent_code", "parent_code"),
                                          _("Unknown parent department “%(code)s”.") % {"code": parent_code},
                                          table.sheet))
        for code, spec in rows.items():
            parent_code = spec["parent_code"]
            if parent_code and parent_code not in parents:
                result.add_error(RowError(spec["row"], table.columns.get("parent_code", "parent_code"),
                                          _("Unknown parent department “%(code)s”.") % {"code": parent_code},
                                          table.sheet))
                continue
            # Walk up the final tree: a cycle would never reach a root.
            seen, cursor = {code}, parent_code
            while cursor:
                if cursor in seen:
                    result.add_error(RowError(spec["row"], table.columns.get("parent_code", "parent_code"),
                                              _("This parent would make the department its own ancestor."),
                                              table.sheet))
                    break
                seen.add(cursor)
                cursor = parents.get(cursor, "")

        for code, spec in rows.items():
            current = existing.get(code)
            if current is None:
                result.counts["departments_created"] += 1
                continue
            differing = []
            if current.name != spec["name"]:
                differing.append(["name", current.name, spec["name"]])
            if parents_changed(current, spec["parent_code"]):
                differing.append(["parent_code", current.parent.code if current.parent_id else "",
                                  spec["parent_code"]])
            if not current.is_active:
                differing.append(["active", False, True])
            if differing:
                result.counts["departments_updated"] += 1
                result.add_change({"sheet": table.sheet, "row": spec["row"], "kind": "department", "key": code,
                                   "name": current.name, "fields": differing})
            else:
                result.counts["departments_unchanged"] += 1

        if apply and result.ok:
            self._apply_departments(rows, existing, actor)
        return rows

    def _apply_departments(self, rows: dict, existing: dict, actor) -> None:
        done: set[str] = set()

        def place(code: str) -> Department:
            spec = rows[code]
            parent = None
            if spec["parent_code"]:
                parent = place(spec["parent_code"]) if spec["parent_code"] in rows else existing[spec["parent_code"]]
            department = existing.get(code) or Department(code=code)
            if code in done:
                return department
            done.add(code)
            changed = (department.pk is None or department.name != spec["name"] or not department.is_active
                       or department.parent_id != (parent.pk if parent else None))
            if changed:
                department.name, department.parent, department.is_active = spec["name"], parent, True
                department_save(actor=actor, department=department)
            existing[code] = department
            return department

        for code in rows:
            place(code)

    def _employees(self, table: Table, result: ImportResult, file_departments: dict,
                   seen_numbers: set[str], *, apply: bool, actor) -> None:
        department_ids = dict(Department.objects.filter(is_active=True).values_list("code", "id"))
        chunk: list[tuple[int, dict]] = []
        for row_number, row in table.open_rows():
            def error(column, message, row_number=row_number):
                result.add_error(RowError(row_number, table.columns.get(column, column), message, table.sheet))

            # Every check runs on every row, so a row's errors are all reported in one pass.
            values, ok = _clean_employee(row, error)
            number = row.get("employee_no", "")
            if number:
                if number in seen_numbers:
                    error("employee_no", _("Employee number “%(number)s” appears twice in the file.")
                          % {"number": number})
                    ok = False
                seen_numbers.add(number)
            department_code = values.get("department_code")
            if department_code and department_code not in department_ids \
                    and department_code not in file_departments:
                error("department_code", _("Unknown department “%(code)s”.") % {"code": department_code})
                ok = False
            if number:
                chunk.append((row_number, values, ok))
            if len(chunk) >= CHUNK_ROWS:
                self._employee_chunk(chunk, table, result, apply=apply, actor=actor)
                self._tick(len(chunk), result.total_rows)
                chunk = []
        if chunk:
            self._employee_chunk(chunk, table, result, apply=apply, actor=actor)
            self._tick(len(chunk), result.total_rows)

    def _employee_chunk(self, chunk: list[tuple[int, dict]], table: Table, result: ImportResult, *,
                        apply: bool, actor) -> None:
        numbers = [values["employee_no"] for _row, values, _ok in chunk]
        existing = {e.employee_no: e for e in Employee.objects.filter(employee_no__in=numbers)}
        # Departments created by this import only have ids once applied, so look them up per chunk.
        department_ids = dict(Department.objects.values_list("code", "id"))
        department_codes = {pk: code for code, pk in department_ids.items()}
        to_create, to_update, changed_fields, audit = [], [], set(), []
        for row_number, values, ok in chunk:
            fields = {k: v for k, v in values.items() if k != "department_code"}
            if "department_code" in values:
                fields["department_id"] = department_ids.get(values["department_code"])
            current = existing.get(values["employee_no"])
            if current is None:
                missing = [key for key in ("name", "department_code") if key not in values]
                for key in missing:
                    result.add_error(RowError(row_number, table.columns.get(key, key),
                                              _("A new employee needs this column."), table.sheet))
                if ok and not missing:
                    result.counts["employees_created"] += 1
                    to_create.append(Employee(**fields))
                continue
            if not ok:  # its errors are reported; it is neither counted nor written
                continue
            differing = [k for k, v in fields.items() if getattr(current, k) != v]
            if not differing:
                result.counts["employees_unchanged"] += 1
                continue
            result.counts["employees_updated"] += 1
            shown = []
            for key in differing:
                column = FIELD_COLUMNS.get(key, key)
                old, new = getattr(current, key), fields[key]
                if key == "department_id":
                    old, new = department_codes.get(old, ""), department_codes.get(new, values["department_code"])
                shown.append([column, _shown(column, old), _shown(column, new)])
                setattr(current, key, fields[key])
            result.add_change({"sheet": table.sheet, "row": row_number, "kind": "employee",
                               "key": current.employee_no, "name": current.name, "fields": shown})
            audit.append((str(current.pk), current.name, {column: (old, new) for column, old, new in shown}))
            current.updated_at = timezone.now()  # bulk_update skips auto_now
            changed_fields.update(differing)
            to_update.append(current)
        if apply and result.ok:
            self._write_employees(to_create, to_update, changed_fields)
            record_changes(actor=actor, action="import_update", object_type="employee", entries=audit)

    def _write_employees(self, to_create: list[Employee], to_update: list[Employee], changed_fields: set) -> None:
        if to_create:
            numbers = [e.employee_no for e in to_create]
            users = {u.username: u for u in User.objects.filter(username__in=numbers, employee__isnull=True)}
            taken = set(User.objects.filter(username__in=numbers, employee__isnull=False)
                        .values_list("username", flat=True))
            new_users = [
                User(username=e.employee_no, email=e.email, is_active=e.is_active, password=_unusable_password())
                for e in to_create if e.employee_no not in users and e.employee_no not in taken
            ]
            for user in User.objects.bulk_create(new_users):
                users[user.username] = user
            if any(u.pk is None for u in users.values()):  # backends that do not return ids
                users = {u.username: u for u in User.objects.filter(username__in=list(users))}
            for employee in to_create:
                employee.user = users.get(employee.employee_no)
            Employee.objects.bulk_create(to_create)
        if to_update:
            Employee.objects.bulk_update(to_update, sorted(changed_fields | {"updated_at"}))
            if "is_active" in changed_fields:
                for active in (True, False):
                    ids = [e.user_id for e in to_update if e.is_active == active and e.user_id]
                    User.objects.filter(pk__in=ids).update(is_active=active)

    def _deactivate_missing(self, result: ImportResult, seen_numbers: set[str], *, apply: bool, actor) -> None:
        # Compare in Python: a NOT IN over 100 000 numbers is too large a statement for SQLite.
        missing = [
            (pk, number, name, user_id)
            for pk, number, name, user_id in Employee.objects.filter(is_active=True)
            .values_list("pk", "employee_no", "name", "user_id").iterator(chunk_size=5000)
            if number not in seen_numbers
        ]
        result.counts["employees_deactivated"] = len(missing)
        for _pk, number, name, _user_id in missing:
            result.add_change({"sheet": "", "row": 0, "kind": "employee", "key": number, "name": name,
                               "fields": [["active", True, False]]})
        if apply and missing:
            for start in range(0, len(missing), 500):
                part = missing[start:start + 500]
                Employee.objects.filter(pk__in=[pk for pk, *_rest in part]).update(is_active=False)
                User.objects.filter(pk__in=[user_id for *_rest, user_id in part if user_id]).update(is_active=False)
                record_changes(actor=actor, action="import_deactivate", object_type="employee", entries=[
                    (str(pk), name, {"active": (True, False)}) for pk, _number, name, _user_id in part])


def parents_changed(department: Department, parent_code: str) -> bool:
    current = department.parent.code if department.parent_id else ""
    return current != parent_code


# ---------------------------------------------------------------- the template


TEMPLATE_DEPARTMENTS = [
    ["HQ", "总部", ""],
    ["HQ-HR", "人力资源部", "HQ"],
]
TEMPLATE_EMPLOYEES = [
    ["E0001", "张三", "HQ-HR", "培训主管", "manager", "新任经理", "zhangsan@example.com", "13800000000",
     "", "", "", "2024-03-01", "1", ""],
]


def template_xlsx() -> bytes:
    help_rows = [[key, _("yes") if required else _("no"), f"{label} ({' / '.join(aliases)})"]
                 for columns in (DEPARTMENT_COLUMNS, EMPLOYEE_COLUMNS)
                 for key, (required, label, aliases) in columns.items()]
    return xlsx_sheets_bytes([
        ("departments", list(DEPARTMENT_COLUMNS), TEMPLATE_DEPARTMENTS),
        ("employees", list(EMPLOYEE_COLUMNS), TEMPLATE_EMPLOYEES),
        ("help", [_("column"), _("required"), _("meaning")], help_rows),
    ])


def template_csv() -> bytes:
    return csv_bytes(list(EMPLOYEE_COLUMNS), TEMPLATE_EMPLOYEES)
