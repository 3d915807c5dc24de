"""Writing the audit trail of admin changes."""

from learntrace.core.models import AuditEntry

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
