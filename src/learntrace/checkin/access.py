"""Who may run a meeting: training admins, and the people named as its organisers.
Auditors read every meeting; learners only reach the check-in pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from learntrace.checkin.models import Meeting
from learntrace.org.access import roles_of

if TYPE_CHECKING:
    from learntrace.org.access import User


def can_organise(user: User, meeting: Meeting) -> bool:
    roles = roles_of(user)
    return roles.is_admin or (roles.employee_id is not None and
                              meeting.organisers.filter(pk=roles.employee_id).exists())


def access_meeting(user: User, meeting_id: int | str, *, organise: bool = False) -> Meeting:
    """A meeting the user may see; 404 otherwise, like every access helper, so that a meeting's
    existence is not revealed. With organise=True, 403 for those who see it but may not run it
    (auditors)."""
    try:
        meeting: Meeting = visible_meetings(user).get(pk=meeting_id)
    except (Meeting.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if organise and not can_organise(user, meeting):
        raise PermissionDenied
    return meeting


def visible_meetings(user: User) -> QuerySet[Meeting]:
    roles = roles_of(user)
    meetings = Meeting.objects.select_related("course")
    if roles.can_read_all:
        return meetings
    if roles.employee_id is None:
        return meetings.none()
    return meetings.filter(organisers=roles.employee_id)
