"""Template filters for durations: stored in seconds, shown in hours or as a clock."""

from django import template

from learntrace.core import languages, numbers

register = template.Library()


@register.filter
def hours(seconds) -> str:
    """3600 -> "1.0", 5580 -> "1.6": hours with one decimal, as people count training time."""
    try:
        return numbers.hours_text(int(seconds))
    except (TypeError, ValueError):
        return ""


@register.filter
def clock(seconds) -> str:
    """750 -> "12:30", 3750 -> "1:02:30"."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    hours_part, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours_part}:{minutes:02d}:{secs:02d}" if hours_part else f"{minutes}:{secs:02d}"


@register.filter
def ms_clock(milliseconds) -> str:
    try:
        return clock(int(milliseconds) // 1000)
    except (TypeError, ValueError):
        return ""


@register.filter
def divide_by_60(seconds) -> str:
    """Seconds as signed minutes: -1800 -> "-30"."""
    try:
        return f"{int(seconds) / 60:+g}"
    except (TypeError, ValueError):
        return ""


@register.filter
def local_name(row, prefix: str) -> str:
    """A category's or credit class's name from a values() row ("credit_class" reads
    credit_class__name and credit_class__name_en) in the page's language."""
    return languages.local_name(row.get(f"{prefix}__name") or "", row.get(f"{prefix}__name_en") or "")
