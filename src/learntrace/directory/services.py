"""Directory sync: what a directory answers becomes an organisation import batch (source: the
directory), checked and applied by the organisation import like an uploaded file.

A whole sync lists every department and person; a sync of changes (from a platform's event) reads
only the people and departments named, and the departments above them that are not here yet.
"""

import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from learntrace.core.logs import log_failure
from learntrace.directory.sources import DirectoryError, Source
from learntrace.org import tasks as org_tasks
from learntrace.org.importing import UNEXPECTED_ERROR, ImportResult
from learntrace.org.models import Department, Employee, ImportBatch
from learntrace.org.snapshots import write_snapshot

log = logging.getLogger(__name__)

MAX_DEPARTMENT_DEPTH = 64  # how far up a sync of changes looks for departments not here yet


def sources() -> dict[str, Source]:
    from learntrace.directory.dingtalk import DingTalkContacts
    from learntrace.directory.feishu import FeishuContacts
    from learntrace.directory.ldap import LdapDirectory
    from learntrace.directory.wecom import WeComContacts

    return {source.name: source for source in (DingTalkContacts(), WeComContacts(), FeishuContacts(),
                                                LdapDirectory())}


def source_named(name: str) -> Source:
    source = sources().get(name)
    if source is None:
        raise DirectoryError(_("“%(name)s” is not a directory; use dingtalk, wecom, feishu or ldap.") % {"name": name})
    if not source.configured():
        raise DirectoryError(_("%(source)s is not configured for the directory sync; see the README.")
                             % {"source": source.label})
    return source


def sync_begin(*, source: str, actor=None, deactivate_missing: bool = False, changes: str = "",
               language: str | None = None) -> ImportBatch:
    """A batch waiting for the directory's answer; `changes` says what a sync of changes reads."""
    source_named(source)  # an unknown or unconfigured directory is refused before a batch exists
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        label = str(ImportBatch.Source(source).label)
        name = f"{label} · {changes}" if changes else label
    return ImportBatch.objects.create(source=source, file_name=name[:255], stored_path="", sha256="",
                                      deactivate_missing=deactivate_missing, created_by=actor, language=language)


def sync_run(batch: ImportBatch, *, apply: bool, user_ids=(), department_ids=()) -> ImportBatch:
    """Read the directory into the batch, check it, and apply it when asked and clean.

    Any failure ends the batch with a reason in its language; nothing is written unless all is well."""
    with translation.override(batch.language):
        try:
            source = source_named(batch.source)
            if user_ids or department_ids:
                departments, people = changed_rows(source, user_ids=user_ids, department_ids=department_ids)
                if not departments and not people:  # someone left, and the deployment keeps leavers
                    org_tasks.finish(batch, ImportBatch.Status.APPLIED, ImportResult())
                    return batch
            else:
                found = list(source.departments())  # a few thousand at most; read once
                departments = (source.department_row(d) for d in found)
                people = source.people(found)
            columns = {"departments": source.department_columns, "employees": source.employee_columns}
            path, sha256 = write_snapshot(sheet=str(source.label), columns=columns, departments=departments,
                                          employees=people)
        except DirectoryError as exc:
            org_tasks.finish(batch, ImportBatch.Status.FAILED, file_error=str(exc))
            return batch
        except Exception as exc:
            log_failure(log, f"directory sync {batch.pk} failed", exc)
            org_tasks.finish(batch, ImportBatch.Status.FAILED, file_error=str(UNEXPECTED_ERROR))
            return batch
    batch.stored_path, batch.sha256 = str(path), sha256
    batch.save(update_fields=["stored_path", "sha256"])
    org_tasks.check_batch(batch)
    if apply and batch.status == ImportBatch.Status.VALIDATED:
        org_tasks.apply_batch(batch.pk, batch.created_by)
    batch.refresh_from_db()
    return batch


def changed_rows(source: Source, *, user_ids, department_ids) -> tuple[list[dict], list[dict]]:
    """Rows for the named people and departments. A person the directory no longer has is
    deactivated only when the deployment deactivates missing people."""
    known = set(Department.objects.values_list("code", flat=True))
    departments: dict[str, dict] = {}

    def add_with_parents(department_id: str) -> None:
        for _step in range(MAX_DEPARTMENT_DEPTH):
            if not department_id or source.code(department_id) in departments:
                return
            department = source.department(department_id)
            if department is None:
                return
            row = source.department_row(department)
            departments[row["code"]] = row
            if not department.parent_id or source.code(department.parent_id) in known:
                return
            department_id = department.parent_id

    for department_id in dict.fromkeys(department_ids):
        add_with_parents(str(department_id))
    people, gone = [], []
    for user_id in dict.fromkeys(user_ids):
        row = source.person(str(user_id))
        if row is None:
            gone.append(str(user_id))
            continue
        people.append(row)
        code = row.get("department_code", "")
        if code and code not in known and code.startswith(source.prefix()):
            add_with_parents(code[len(source.prefix()):])
    if gone and settings.DIRECTORY_SYNC_DEACTIVATE_MISSING and source.user_field:
        numbers = Employee.objects.filter(**{f"{source.user_field}__in": gone}, is_active=True) \
            .values_list("employee_no", flat=True)
        people.extend({"employee_no": number, "active": "0"} for number in numbers)
    return list(departments.values()), people
