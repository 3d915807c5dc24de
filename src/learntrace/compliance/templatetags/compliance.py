from django import template

from learntrace.compliance import selectors

register = template.Library()


@register.simple_tag
def recognitions_of(employee) -> list[dict]:
    """The titles a person earned, for the profile in org (which sits below compliance)."""
    return selectors.recognitions_of(employee)


@register.filter
def consequence_text(entry: dict) -> str:
    return selectors.describe_consequence(entry)


@register.filter
def missing_text(entry: dict) -> str:
    return selectors.describe_missing(entry)


@register.filter
def verdict(standing) -> str:
    return selectors.verdict(standing)
