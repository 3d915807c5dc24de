"""Upserting departments and employees sent as JSON, through the organisation import:
the same checks as a file, and all of it written or nothing.

Fields left out of an employee keep their current value; a new employee needs a name
and a department, exactly like a new row in an import file."""

from learntrace.org.importing import DEPARTMENT_COLUMNS, EMPLOYEE_COLUMNS, ImportResult, OrgImport, Table

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


def _row(item: dict, columns: dict) -> dict:
    # Only what was sent: a field left out (or null) is not in the row, so it keeps its value.
    return {key: _text(value) for key, value in item.items() if key in columns and value is not None}


class JsonOrgImport(OrgImport):
    """The organisation import fed with rows instead of a file (rows are numbered from 0)."""

    def __init__(self, *, departments: list[dict] | None = None, employees: list[dict] | None = None):
        super().__init__(path=".", original_name="API")
        self._sent = []
        if departments:
            self._sent.append(("departments", DEPARTMENT_COLUMNS, [_row(d, DEPARTMENT_COLUMNS) for d in departments]))
        if employees:
            self._sent.append(("employees", EMPLOYEE_COLUMNS, [_row(e, EMPLOYEE_COLUMNS) for e in employees]))

    def _tables(self) -> list[Table]:
        return [Table(kind, kind, {key: key for key in columns}, lambda rows=rows: iter(enumerate(rows)), len(rows))
                for kind, columns, rows in self._sent]


def field_errors(result: ImportResult) -> dict:
    """Row errors as {"employees[2].email": message}; a field with several errors gets them all."""
    fields: dict[str, str] = {}
    for error in result.errors:
        key = f"{error['sheet']}[{error['row']}].{error['column']}"
        fields[key] = f"{fields[key]} {error['message']}" if key in fields else error["message"]
    return fields
