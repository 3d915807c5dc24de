"""Upserting departments and employees sent as JSON, through the organisation import:
the same checks as a file, and all of it written or nothing.

Fields left out of an employee keep their current value; a new employee needs a name
and a department, exactly like a new row in an import file."""

from learntrace.org.importing import DEPARTMENT_COLUMNS, EMPLOYEE_COLUMNS, ImportResult, OrgImport, Table
from learntrace.org.models import Department, Employee

MAX_ROWS = 1000


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _current_employee_row(employee: Employee) -> dict:
    return {
        "employee_no": employee.employee_no, "name": employee.name, "department_code": employee.department.code,
        "position": employee.position, "level": employee.level, "tags": ",".join(employee.tag_list),
        "email": employee.email, "mobile": employee.mobile, "dingtalk_user_id": employee.dingtalk_user_id,
        "wecom_user_id": employee.wecom_user_id, "feishu_user_id": employee.feishu_user_id,
        "hire_date": _text(employee.hire_date), "active": _text(employee.is_active),
        "national_id": employee.national_id,
    }


def _current_department_row(department: Department) -> dict:
    return {"code": department.code, "name": department.name,
            "parent_code": department.parent.code if department.parent_id else ""}


def _merge(sent: list[dict], current: dict, columns: dict) -> list[dict]:
    rows = []
    for item in sent:
        row = {key: "" for key in columns}
        key_value = next(iter(columns))  # employee_no / code
        row.update(current.get(_text(item.get(key_value)), {}))
        row.update({key: _text(value) for key, value in item.items() if key in columns and value is not None})
        rows.append(row)
    return rows


class JsonOrgImport(OrgImport):
    """The organisation import fed with rows instead of a file (rows are numbered from 0)."""

    def __init__(self, *, departments: list[dict] | None = None, employees: list[dict] | None = None):
        super().__init__(path=".", original_name="API")
        departments, employees = departments or [], employees or []
        self._sent = []
        if departments:
            codes = [_text(d.get("code")) for d in departments]
            current = {d.code: _current_department_row(d)
                       for d in Department.objects.filter(code__in=codes).select_related("parent")}
            self._sent.append(("departments", DEPARTMENT_COLUMNS, _merge(departments, current, DEPARTMENT_COLUMNS)))
        if employees:
            numbers = [_text(e.get("employee_no")) for e in employees]
            current = {e.employee_no: _current_employee_row(e)
                       for e in Employee.objects.filter(employee_no__in=numbers).select_related("department")}
            self._sent.append(("employees", EMPLOYEE_COLUMNS, _merge(employees, current, EMPLOYEE_COLUMNS)))

    def _tables(self) -> list[Table]:
        return [Table(kind, kind, {key: key for key in columns}, lambda rows=rows: iter(enumerate(rows)), len(rows))
                for kind, columns, rows in self._sent]


def field_errors(result: ImportResult) -> dict:
    """Row errors as {"employees[2].email": message}."""
    fields = {}
    for error in result.errors:
        fields.setdefault(f"{error['sheet']}[{error['row']}].{error['column']}", error["message"])
    return fields
