"""What a finished OpenID Connect or CAS sign-in says about the person, before it is matched to an employee."""

from dataclasses import dataclass

LONGEST_VALUE = 255  # longer than any employee number, e-mail address or OIDC subject


@dataclass(frozen=True)
class Identity:
    subject: str  # the account's stable id at the provider (OIDC `sub`, the CAS user)
    value: str  # what names the employee the first time (a claim or attribute); "" when absent
    field: str  # the Employee field `value` is matched against
    next_url: str  # where the person was going


def text(value) -> str:
    """A claim or attribute as one string: a string or number of sane length, else "" (absent)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # CAS attributes and some claims come as one-element lists
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    value = str(value).strip()
    return value if len(value) <= LONGEST_VALUE else ""
