"""Writing the audit trail of admin changes."""

from learntrace.core.models import AuditEntry

# Values of these fields never enter the audit trail; only the fact that they changed.
SENSITIVE_FIELDS = {"national_id", "password"}


def record_change(*, actor, action: str, obj=None, object_type: str = "", object_id: str = "",
                  summary: str = "", changes: dict | None = None) -> AuditEntry:
    safe_changes = {}
    for field, (old, new) in (changes or {}).items():
        safe_changes[field] = ["***", "***"] if field in SENSITIVE_FIELDS else [_jsonable(old), _jsonable(new)]
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None else ""),
        summary=summary[:300],
        changes=safe_changes,
    )


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
