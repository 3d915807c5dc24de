"""The audit trail in people's words: an action, a kind of record, a field and a value are stored as
codes ("grant_role", "learningplan", "is_active", True) and shown as labels in the page's language."""

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy, pgettext_lazy

from learntrace.org.models import Role

ACTIONS = {
    "create": gettext_lazy("Created"),
    "update": gettext_lazy("Changed"),
    "delete": gettext_lazy("Deleted"),
    "configure": gettext_lazy("Set up"),
    "publish": gettext_lazy("Published"),
    "archive": gettext_lazy("Archived"),
    "accept_reflection": gettext_lazy("Reflection accepted"),
    "return_reflection": gettext_lazy("Reflection returned"),
    "import": gettext_lazy("Imported the organisation"),
    "import_update": gettext_lazy("Updated by an import"),
    "import_deactivate": gettext_lazy("Deactivated by an import"),
    "import_history": gettext_lazy("Imported learning history"),
    "void_completion": gettext_lazy("Completion voided"),
    "correct_time": gettext_lazy("Time corrected"),
    "resend": gettext_lazy("Sent again"),
    "set_password": gettext_lazy("Password set"),
    "grant_role": gettext_lazy("Role granted"),
    "revoke_role": gettext_lazy("Role revoked"),
    "freeze": gettext_lazy("Period frozen"),
    "reopen": gettext_lazy("Period reopened"),
    "open_checkout": gettext_lazy("Check-out opened"),
    "close_checkout": gettext_lazy("Check-out closed"),
    "export": gettext_lazy("Exported"),
    "revoke": gettext_lazy("Revoked"),
    "identity.unlink": gettext_lazy("Sign-in account unlinked"),
    "signin_links.send": gettext_lazy("Sign-in links sent"),
    "signin_links.sent": gettext_lazy("Sign-in links delivered"),
    "password.activation": gettext_lazy("Password chosen with an activation link"),
    "password.reset": gettext_lazy("Password chosen with a reset link"),
    "seal": gettext_lazy("Facts sealed"),
}

# Records that are not one model's row, and audited models that have no name of their own.
OBJECT_TYPES = {
    "organisation": gettext_lazy("organisation"),
    "records": gettext_lazy("learning records"),
    "reflection": gettext_lazy("reflection"),
    "correction": gettext_lazy("correction"),
    "planperiod": gettext_lazy("plan period"),
    "consequence": gettext_lazy("consequence"),
    "linkbatch": gettext_lazy("sign-in links"),
}

# Fields of entries that are not a model's field: an import's counts, a history import's totals.
FIELDS = {
    "departments_created": gettext_lazy("departments created"),
    "departments_updated": gettext_lazy("departments updated"),
    "departments_unchanged": gettext_lazy("departments unchanged"),
    "employees_created": gettext_lazy("employees created"),
    "employees_updated": gettext_lazy("employees updated"),
    "employees_unchanged": gettext_lazy("employees unchanged"),
    "employees_deactivated": gettext_lazy("employees deactivated"),
    "facts": gettext_lazy("learning facts"),
    "completions": gettext_lazy("completions"),
    "seconds": gettext_lazy("seconds"),
    "scopes": gettext_lazy("scopes"),
    "password": gettext_lazy("password"),
    "role": gettext_lazy("role"),
}

ROLES = dict(Role.choices)
YES = pgettext_lazy("audit value", "yes")
NO = pgettext_lazy("audit value", "no")


@dataclass
class Change:
    field: str
    old: object
    new: object


def _model(object_type: str):
    """The project's model whose name an entry stores (its `_meta.model_name`), if any."""
    for model in apps.get_models():
        if model.__module__.startswith("learntrace.") and model._meta.model_name == object_type:
            return model
    return None


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action.replace("_", " ").replace(".", " ")))


def object_label(object_type: str) -> str:
    if object_type in OBJECT_TYPES:
        return str(OBJECT_TYPES[object_type])
    model = _model(object_type)
    return str(model._meta.verbose_name) if model is not None else object_type


def _value(field, value):
    """A stored value as shown: yes/no for booleans, a choice's label for a code."""
    if isinstance(value, bool):
        return str(YES if value else NO)
    choices = dict(field.flatchoices) if field is not None and field.choices else {}
    return str(choices.get(value, value)) if value not in (None, "") else value


def changes(object_type: str, stored: dict) -> list[Change]:
    model = _model(object_type)
    shown = []
    for name, (old, new) in stored.items():
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
        if field is not None and hasattr(field, "verbose_name"):
            label = str(field.verbose_name)
        else:
            label = str(FIELDS.get(name, name.replace("_", " ")))
        if name == "role":  # a grant's role, stored as its code
            old, new = ROLES.get(old, old), ROLES.get(new, new)
        shown.append(Change(label, _value(field, old), _value(field, new)))
    return shown


def describe(entry) -> dict:
    """What the audit page shows of one entry."""
    return {"entry": entry, "action": action_label(entry.action), "object": object_label(entry.object_type),
            "changes": changes(entry.object_type, entry.changes or {})}

