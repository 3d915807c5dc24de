"""What the reminders say, in each recipient's own language (Markdown, readable as plain text).

Every value that comes from data goes through `literal()` (in the text) or `one_line()` (in
the subject): a name is shown as written and never becomes a link, a mention or formatting."""

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from learntrace.catalog.models import CourseKind
from learntrace.core.months import local_zone
from learntrace.notify.markup import literal, one_line
from learntrace.plans.models import PeriodType
from learntrace.plans.selectors import COMPLETED

DIGEST_NAMES = 30  # a digest lists this many people, then says how many more


def language_of(employee) -> str:
    return employee.language or settings.LANGUAGE_CODE


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def my_learning_link() -> str:
    return absolute(reverse("plans:my"))


def _hours(seconds: int) -> str:
    """4 h reads "4", 3.5 h reads "3.5"."""
    return f"{seconds / 3600:.1f}".removesuffix(".0")


def _due_date(period) -> dt.date:
    return (timezone.localtime(period.due_at, local_zone()) - dt.timedelta(days=1)).date()


def _hours_sentence(progress) -> str:
    values = {"done": _hours(progress.total.done), "owed": _hours(progress.total.owed)}
    sentences = {
        PeriodType.MONTHLY: _("This month you have completed %(done)s hours of learning and still need "
                              "%(owed)s hours."),
        PeriodType.QUARTERLY: _("This quarter you have completed %(done)s hours of learning and still need "
                                "%(owed)s hours."),
        PeriodType.YEARLY: _("This year you have completed %(done)s hours of learning and still need "
                             "%(owed)s hours."),
        PeriodType.ONE_OFF: _("You have completed %(done)s hours of learning and still need %(owed)s hours."),
    }
    return sentences[progress.plan.period_type] % values


def reminder(progress) -> tuple[str, str, str]:
    """(subject, text, link) of one person's reminder for one plan period."""
    employee = progress.assignment.employee
    link = my_learning_link()
    with translation.override(language_of(employee)):
        subject = _("Learning reminder: %(plan)s") % {"plan": one_line(progress.plan.name)}
        lines = [_("Hello %(name)s,") % {"name": literal(employee.name)}]
        if progress.total.target:
            lines.append(_hours_sentence(progress))
        kinds = dict(CourseKind.choices)
        for kind, hours in progress.by_kind.items():
            if not hours.met:
                lines.append(_("- %(kind)s: %(owed)s hours still to do") % {
                    "kind": kinds.get(kind, kind), "owed": _hours(hours.owed)})
        open_items = [literal(item.course.title) for item in progress.items if item.state != COMPLETED]
        if open_items:
            lines.append(_("- Required courses not completed yet: %(titles)s") % {"titles": ", ".join(open_items)})
        if progress.credits_due:
            for credit in progress.credits:
                if not credit.met:
                    owed = f"{credit.owed:.2f}".rstrip("0").rstrip(".")
                    lines.append(_("- Credits still to earn this year: %(owed)s") % {"owed": owed})
        if not progress.reflection_met:
            lines.append(_("- Your reflection is still to be submitted."))
        lines.append(_("Please complete it by %(date)s.") % {"date": _due_date(progress.period).isoformat()})
        label = _("Open my learning")
        lines.append(f"[{label}]({link})")
    return subject, "\n\n".join(lines), link


def digest(head, plan, period, behind: list) -> tuple[str, str, str]:
    """(subject, text, link) of a department head's list of their people who are behind."""
    link = absolute(f"{reverse('plans:team')}?plan={plan.pk}")
    with translation.override(language_of(head)):
        subject = _("Your people's learning: %(plan)s") % {"plan": one_line(plan.name)}
        lines = [_("Hello %(name)s,") % {"name": literal(head.name)},
                 _("%(count)d of your people have not yet completed %(plan)s, due %(date)s:") % {
                     "count": len(behind), "plan": literal(plan.name), "date": _due_date(period).isoformat()}]
        people = []
        for progress in behind[:DIGEST_NAMES]:
            person = progress.assignment.employee
            people.append(_("- %(name)s (%(department)s): %(done)s hours done, %(owed)s hours to go") % {
                "name": literal(person.name), "department": literal(person.department.name),
                "done": _hours(progress.total.done), "owed": _hours(progress.total.owed)})
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
