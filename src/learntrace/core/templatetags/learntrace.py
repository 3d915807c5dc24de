"""Template filters for durations: stored in seconds, shown in hours or as a clock."""

from django import template

register = template.Library()


@register.filter
def hours(seconds) -> str:
    """3600 -> "1.0", 5400 -> "1.5": hours with one decimal, as people count training time."""
    try:
        return f"{int(seconds) / 3600:.1f}"
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
