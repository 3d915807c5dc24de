"""What the reminders say, in each recipient's own language (Markdown, readable as plain text).

Every value that comes from data goes through `literal()` (in the text) or `one_line()` (in
the subject): a name is shown as written and never becomes a link, a mention or formatting."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from learntrace.catalog.models import CourseKind
from learntrace.core.months import local_zone
from learntrace.core.numbers import hours_text
from learntrace.notify.markup import literal, one_line
from learntrace.plans.models import PeriodType

DIGEST_NAMES = 30  # a digest lists this many people, then says how many more


def language_of(employee) -> str:
    return employee.language or settings.LANGUAGE_CODE


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def my_learning_link() -> str:
    return absolute(reverse("plans:my"))


def _hours(seconds: int) -> str:
    """4 h reads "4", 3.5 h reads "3.5" (rounded as everywhere: core.numbers.hours)."""
    return hours_text(seconds).removesuffix(".0")


def _due_date(period) -> dt.date:
    return (timezone.localtime(period.due_at, local_zone()) - dt.timedelta(days=1)).date()


def _owed(standing) -> int:
    return max(standing.target_seconds - standing.total_seconds, 0)


def _hours_sentence(standing) -> str:
    values = {"done": _hours(standing.total_seconds), "owed": _hours(_owed(standing))}
    if not _owed(standing):  # the hours are met: the rest of the reminder says what is missing
        met = {
            PeriodType.MONTHLY: _("This month you have completed %(done)s hours of learning: the hours are met."),
            PeriodType.QUARTERLY: _("This quarter you have completed %(done)s hours of learning: "
                                    "the hours are met."),
            PeriodType.YEARLY: _("This year you have completed %(done)s hours of learning: the hours are met."),
            PeriodType.ONE_OFF: _("You have completed %(done)s hours of learning: the hours are met."),
        }
        return met[standing.period.plan.period_type] % values
    sentences = {
        PeriodType.MONTHLY: _("This month you have completed %(done)s hours of learning and still need "
                              "%(owed)s hours."),
        PeriodType.QUARTERLY: _("This quarter you have completed %(done)s hours of learning and still need "
                                "%(owed)s hours."),
        PeriodType.YEARLY: _("This year you have completed %(done)s hours of learning and still need "
                             "%(owed)s hours."),
        PeriodType.ONE_OFF: _("You have completed %(done)s hours of learning and still need %(owed)s hours."),
    }
    return sentences[standing.period.plan.period_type] % values


def _credits(owed: str) -> str:
    """"20.00" reads "20", "2.50" reads "2.5"."""
    return f"{Decimal(owed):.2f}".rstrip("0").rstrip(".")


def reminder(standing) -> tuple[str, str, str]:
    """(subject, text, link) of one person's reminder for one plan period, from their stored figures
    (`compliance.Standing`, with employee and period plan selected)."""
    employee = standing.employee
    link = my_learning_link()
    with translation.override(language_of(employee)):
        subject = _("Learning reminder: %(plan)s") % {"plan": one_line(standing.period.plan.name)}
        lines = [_("Hello %(name)s,") % {"name": literal(employee.name)}]
        if standing.target_seconds:
            lines.append(_hours_sentence(standing))
        kinds = dict(CourseKind.choices)
        missing = [entry for entry in standing.missing if isinstance(entry, dict)]
        for entry in missing:
            if entry.get("what") == "hours" and entry.get("kind") != "total":
                lines.append(_("- %(kind)s: %(owed)s hours still to do") % {
                    "kind": kinds.get(entry["kind"], entry["kind"]), "owed": _hours(int(entry.get("owed") or 0))})
        open_items = [literal(entry.get("title", "")) for entry in missing if entry.get("what") == "course"]
        if open_items:
            lines.append(_("- Required courses not completed yet: %(titles)s") % {"titles": ", ".join(open_items)})
        open_exams = [literal(entry.get("title", "")) for entry in missing if entry.get("what") == "exam"]
        if open_exams:
            lines.append(_("- Required exams not passed yet: %(titles)s") % {"titles": ", ".join(open_exams)})
        for entry in missing:
            if entry.get("what") == "credits" and entry.get("rule") == "hours":
                lines.append(_("- Continuing-education hours still to do this year: %(owed)s") % {
                    "owed": _hours(int(entry.get("owed") or 0))})
            elif entry.get("what") == "credits" and entry.get("rule") == "professional_share":
                lines.append(_("- Professional subjects must make up at least %(share)s of this year's hours.") % {
                    "share": entry.get("share", "")})
            elif entry.get("what") == "credits":
                lines.append(_("- Credits still to earn this year: %(owed)s") % {"owed": _credits(entry["owed"])})
        if any(entry.get("what") == "reflection" for entry in missing):
            lines.append(_("- Your reflection is still to be submitted."))
        lines.append(_("Please complete it by %(date)s.") % {"date": _due_date(standing.period).isoformat()})
        label = _("Open my learning")
        lines.append(f"[{label}]({link})")
    return subject, "\n\n".join(lines), link


def _what_is_missing(standing) -> str:
    """One person's line in a digest: the hours still owed, else the other things they miss."""
    if _owed(standing):
        return _("%(done)s hours done, %(owed)s hours to go") % {
            "done": _hours(standing.total_seconds), "owed": _hours(_owed(standing))}
    missing = [entry for entry in standing.missing if isinstance(entry, dict)]
    parts = []
    courses = sum(1 for entry in missing if entry.get("what") == "course")
    if courses:
        parts.append(ngettext("%(count)d required course not completed", "%(count)d required courses not completed",
                              courses) % {"count": courses})
    parts += [_("%(kind)s: %(owed)s hours to go") % {"kind": dict(CourseKind.choices).get(entry["kind"], entry["kind"]),
                                                      "owed": _hours(int(entry.get("owed") or 0))}
              for entry in missing if entry.get("what") == "hours" and entry.get("kind") != "total"]
    parts += [_("%(owed)s credits to earn") % {"owed": _credits(entry["owed"])}
              for entry in missing if entry.get("what") == "credits"]
    if any(entry.get("what") == "reflection" for entry in missing):
        parts.append(_("reflection not submitted"))
    return _("; ").join(parts) if parts else _("hours met")


def digest(head, plan, period, behind: list) -> tuple[str, str, str]:
    """(subject, text, link) of a department head's list of their people who are behind (standings)."""
    link = absolute(f"{reverse('plans:team')}?plan={plan.pk}")
    with translation.override(language_of(head)):
        subject = _("Your people's learning: %(plan)s") % {"plan": one_line(plan.name)}
        lines = [_("Hello %(name)s,") % {"name": literal(head.name)},
                 _("%(count)d of your people have not yet completed %(plan)s, due %(date)s:") % {
                     "count": len(behind), "plan": literal(plan.name), "date": _due_date(period).isoformat()}]
        people = []
        for standing in behind[:DIGEST_NAMES]:
            person = standing.employee
            people.append(_("- %(name)s (%(department)s): %(missing)s") % {
                "name": literal(person.name), "department": literal(person.department.name),
                "missing": _what_is_missing(standing)})
        lines.append("\n".join(people))
        if len(behind) > DIGEST_NAMES:
            lines.append(_("… and %(count)d more.") % {"count": len(behind) - DIGEST_NAMES})
        label = _("Open team progress")
        lines.append(f"[{label}]({link})")
    return subject, "\n\n".join(lines), link


def meeting_reminder(employee, meeting) -> tuple[str, str, str]:
    link = my_learning_link()
    starts = timezone.localtime(meeting.starts_at, local_zone())
    with translation.override(language_of(employee)):
        subject = _("Meeting reminder: %(title)s") % {"title": one_line(meeting.title)}
        lines = [_("Hello %(name)s,") % {"name": literal(employee.name)},
                 _("You are expected at %(title)s on %(start)s.") % {
                     "title": literal(meeting.title), "start": starts.strftime("%Y-%m-%d %H:%M")}]
        if meeting.location:
            lines.append(_("Location: %(location)s") % {"location": literal(meeting.location)})
        lines.append(_("Check in with the QR code shown at the meeting."))
        label = _("Open my learning")
        lines.append(f"[{label}]({link})")
    return subject, "\n\n".join(lines), link
