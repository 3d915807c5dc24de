"""Writing the audit trail of admin changes."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Model, QuerySet

from learntrace.core.models import AuditEntry

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    # Who made a change: a user, or nobody (the worker, a command).
    Actor = AbstractBaseUser | AnonymousUser | None

# Values of these fields never enter the audit trail; only the fact that they changed.
SENSITIVE_FIELDS = {"national_id", "password"}


def record_change(*, actor, action: str, obj=None, object_type: str = "", object_id: str = "",
                  summary: str = "", changes: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None else ""),
        summary=summary[:300],
        changes=_safe(changes),
    )


def record_changes(*, actor, action: str, object_type: str, entries: list[tuple[str, str, dict]]) -> None:
    """Many entries at once (an import's updates): each is (object id, summary, {field: (old, new)})."""
    if not entries:
        return
    actor = actor if actor is not None and actor.is_authenticated else None
    AuditEntry.objects.bulk_create([
        AuditEntry(actor=actor, action=action, object_type=object_type, object_id=object_id,
                   summary=summary[:300], changes=_safe(changes))
        for object_id, summary, changes in entries
    ], batch_size=500)


def _safe(changes: dict | None) -> dict:
    return {field: ["***", "***"] if field in SENSITIVE_FIELDS else [_jsonable(old), _jsonable(new)]
            for field, (old, new) in (changes or {}).items()}


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def field_changes(before, after, fields) -> dict:
    """{field: (old, new)} for the fields that differ between two instances (before may be None)."""
    changes = {}
    for name in fields:
        old = getattr(before, name, None) if before is not None else None
        new = getattr(after, name, None)
        if old != new:
            changes[name] = (old, new)
    return changes


@transaction.atomic
def save_with_audit(*, actor, form, summary: Callable[[Model], str] = str) -> Model:
    """Save a validated model form and write its audit entry ("create" or "update", with each changed
    field from what to what) in one transaction: an admin change is never written without its entry.
    Every admin create and update page writes through this, or through a service of its own app."""
    creating = form.instance.pk is None
    changes = {name: (None if creating else _before(form, name), form.cleaned_data.get(name))
               for name in form.changed_data}
    saved = form.save()
    record_change(actor=actor, action="create" if creating else "update", obj=saved, summary=summary(saved),
                  changes={name: (_shown(old), _shown(new)) for name, (old, new) in changes.items()})
    return saved


@transaction.atomic
def delete_with_audit(*, actor, obj: Model, summary: str = "") -> None:
    record_change(actor=actor, action="delete", obj=obj, summary=summary or str(obj))
    obj.delete()


def _before(form, name: str):
    """The value a field had, as the form's field reads it (an initial id becomes its object)."""
    initial = form.get_initial_for_field(form.fields[name], name)
    try:
        return form.fields[name].to_python(initial)
    except ValidationError:
        return initial


def _shown(value):
    if isinstance(value, (list, tuple, QuerySet)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, File):
        return value.name
    return value
