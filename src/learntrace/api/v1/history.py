"""Past training records (the history import) sent as JSON: the same checks as the import file,
a dry run that returns every error, and an import that writes all rows or none. Sending the same
rows again adds nothing."""

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from learntrace.api.org_upsert import MAX_ROWS
from learntrace.api.v1.auth import need_admin
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut, invalid
from learntrace.api.v1.types import Key, Text
from learntrace.org.importing import Table
from learntrace.records.history import HISTORY_COLUMNS, HistoryImport, HistoryResult

router = Router(tags=["records"])


class HistoryRowIn(Schema):
    employee_no: Key
    course: Text = Field(description="The course's title, or its id as “#12”.")
    date: dt.date
    hours: Decimal | None = Field(None, description="Hours credited; the course's duration if left out.")
    completed: bool = True
    credits: Decimal | None = Field(None, description="The course's credits if left out.")
    credit_class: Text | None = Field(None, description="Code or name; the course's if left out.")
    category: Text | None = Field(None, description="Code or name; the course's if left out.")
    note: Text | None = Field(None, description="Where the record comes from (paper sheet, old system).")


class HistoryIn(Schema):
    rows: list[HistoryRowIn] = Field(min_length=1, max_length=MAX_ROWS)


class HistoryOut(Schema):
    dry_run: bool
    rows: int
    facts: int = Field(description="Records of credited time added (or, in a dry run, that would be).")
    completions: int = Field(description="Completions added (or that would be).")
    unchanged: int = Field(description="Rows already imported before.")


def _cell(value) -> str:
    """A value as the import file's cell would hold it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


class JsonHistoryImport(HistoryImport):
    """The history import fed with rows instead of a file (rows are numbered from 0)."""

    def __init__(self, rows: list[dict]):
        super().__init__(path=".", original_name="API")
        self.rows = [{key: _cell(value) for key, value in row.items() if value is not None} for row in rows]

    def _tables(self) -> list[Table]:
        return [Table("history", "rows", {key: key for key in HISTORY_COLUMNS},
                      lambda: iter(enumerate(self.rows)), len(self.rows))]


def _refusal(result: HistoryResult) -> Exception:
    fields: dict[str, str] = {}  # a field with several errors gets them all
    for error in result.errors:
        key = f"rows[{error['row']}].{error['column']}"
        fields[key] = f"{fields[key]} {error['message']}" if key in fields else error["message"]
    return invalid(fields, _("Nothing was written: %(count)d value(s) are not valid.") % {"count": len(fields)})


@router.post("/records/history", response={200: HistoryOut, ERROR_STATUSES: ErrorOut},
             summary="Import past training records (training admins); with dry_run, only check and count")
def import_history(request, payload: HistoryIn, dry_run: bool = False):
    need_admin(request, "records:write")
    importer = JsonHistoryImport([row.model_dump() for row in payload.rows])
    result = importer.dry_run() if dry_run else importer.apply(actor=request.user)
    if not result.ok:
        raise _refusal(result)
    return {"dry_run": dry_run, "rows": result.rows, "facts": result.facts, "completions": result.completions,
            "unchanged": result.unchanged}
