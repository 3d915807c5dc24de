"""What a directory (DingTalk, WeCom, Feishu or LDAP contacts) answered, kept as a file and read back
as the tables of an organisation import.

A sync is an import batch like an uploaded file: the check and the confirmed import read the same
snapshot through `OrgImport`, so both see exactly the same rows, and every rule of the file import
(row errors, all-or-nothing, audit, fields left out are kept) holds for a directory too.

The file is JSON lines: a header {"sheet", "departments": {key: field}, "employees": {key: field}}
naming the directory's field behind each column (row errors show it), then one line per department
({"departments": {...}}) and one per person ({"employees": {...}}). A row holds only the columns the
directory gave a value for.
"""

import hashlib
import json
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from learntrace.core.files import store
from learntrace.org.importing import ImportFileError, OrgImport, Table


def write_snapshot(*, sheet: str, columns: dict, departments: Iterable[dict],
                   employees: Iterable[dict]) -> tuple[str, str]:
    """Write the rows to a new file in the shared storage (the check and the import may run on other
    workers); returns (its storage name, sha256)."""
    digest = hashlib.sha256()
    with tempfile.TemporaryFile("w+b") as handle:
        def line(item: dict) -> None:
            data = (json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            digest.update(data)
            handle.write(data)

        line({"sheet": sheet, **columns})
        for kind, rows in (("departments", departments), ("employees", employees)):
            for row in rows:
                line({kind: row})
        handle.seek(0)
        name = store(f"uploads/{uuid.uuid4().hex}.directory.jsonl", handle)
    return name, digest.hexdigest()


def snapshot_tables(path: Path) -> list[Table]:
    with path.open(encoding="utf-8") as handle:
        header = json.loads(handle.readline() or "{}")
        counts = {"departments": 0, "employees": 0}
        for text in handle:
            counts[next(iter(json.loads(text)))] += 1
    if not counts["departments"] and not counts["employees"]:
        raise ImportFileError(_("The directory answered with no departments and no people; nothing was changed."))
    sheet = header.get("sheet", "")

    def open_rows(kind: str) -> Iterator[tuple[int, dict]]:
        with path.open(encoding="utf-8") as handle:
            handle.readline()
            number = 0
            for text in handle:
                item = json.loads(text)
                if kind in item:
                    number += 1
                    yield number, item[kind]

    # Departments first: the import places employees into departments it has read. Without people
    # there is no employee table, so "deactivate the missing" cannot empty the organisation.
    return [Table(kind, sheet, header.get(kind, {}), lambda kind=kind: open_rows(kind), counts[kind])
            for kind in ("departments", "employees") if counts[kind]]


class DirectoryImport(OrgImport):
    """The organisation import, reading a directory's snapshot instead of an uploaded file."""

    def _tables(self) -> list[Table]:
        return snapshot_tables(self.path)
