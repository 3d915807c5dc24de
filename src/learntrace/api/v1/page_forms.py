"""Writes through the admin pages' own forms: the API fills the form a page would post, so a
course, meeting or plan written by an integrator passes exactly the checks an admin's does.

A change (PATCH) starts from what the page's form shows for the object and sets only the fields
sent; a field's errors come back under the API's name for it."""

from django.db.models import Model, QuerySet
from django.forms import FileField
from django.utils.translation import gettext as _

from learntrace.api.v1.errors import ApiError, invalid


def current_data(form) -> dict:
    """The data an unchanged, unbound page form would post (files stay as they are)."""
    return {name: _posted(form.get_initial_for_field(field, name)) for name, field in form.fields.items()
            if not isinstance(field, FileField)}


def _posted(value):
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, (list, tuple, QuerySet)):
        return [_posted(item) for item in value]
    return value


def refusal(errors_by_field: dict) -> ApiError:
    """Every bad field at once; nothing is written."""
    return invalid(errors_by_field, _("Nothing was written: %(count)d value(s) are not valid.")
                   % {"count": len(errors_by_field)})


def form_errors(form, api_names: dict[str, str], prefix: str = "") -> dict[str, str]:
    """{api field: message} of a form that did not validate; errors of the whole form go under "request"
    (or the prefix alone, for one form of a list)."""
    fields = {}
    for name, messages in form.errors.items():
        if name == "__all__":
            key = prefix.rstrip(".") or "request"
        else:
            key = prefix + api_names.get(name, name)
        fields[key] = " ".join(str(message) for message in messages)
    return fields


def ids_by_code(model, codes: list[str] | None, field: str) -> tuple[list[int], dict]:
    """The primary keys of the rows with these codes, and an error for the unknown ones."""
    if not codes:
        return [], {}
    found = dict(model.objects.filter(code__in=codes).values_list("code", "pk"))
    unknown = [code for code in codes if code not in found]
    if unknown:
        return [], {field: _("Unknown code(s): %(codes)s.") % {"codes": ", ".join(unknown)}}
    return [found[code] for code in codes], {}
