"""Meeting check-in for kiosks and badge readers: the same rules and the same facts as a
scan of the rotating code, made by an organiser's token for a person named by employee number."""

import datetime as dt
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from learntrace.api.v1.auth import need
from learntrace.api.v1.errors import ERROR_STATUSES, ApiError, ErrorOut, invalid
from learntrace.api.v1.pagination import aware
from learntrace.api.v1.records import AttendanceOut, attendance_out, attendance_with_update_time
from learntrace.api.v1.types import NO_NUL, Id, Key
from learntrace.checkin import services
from learntrace.checkin.access import can_organise, visible_meetings
from learntrace.checkin.models import Attendance
from learntrace.org.models import Employee

router = Router(tags=["check-in"])
MAX_DELAY = dt.timedelta(hours=24)  # a badge reader that was offline sends its queue later


class MeetingOut(Schema):
    id: int
    title: str
    course_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    location: str
    checkout_required: bool
    signature_required: bool


class CheckInIn(Schema):
    employee_no: Key
    mode: Literal["in", "out"] = "in"
    at: dt.datetime | None = Field(None, description="When the badge was read; now if left out.")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    signature: str | None = Field(None, max_length=services.MAX_SIGNATURE_BYTES, pattern=NO_NUL,
                                  description="A PNG data URL, where the meeting asks for a signature.")


@router.get("/meetings", response={200: list[MeetingOut], ERROR_STATUSES: ErrorOut},
            summary="Meetings the caller organises (all for admins and auditors), from a day on")
def meetings(request, since: dt.date | None = None):
    need(request, "checkin:write", "records:read")
    found = visible_meetings(request.user).order_by("starts_at", "pk")
    if since is not None:
        found = found.filter(ends_at__date__gte=since)
    return [{"id": m.pk, "title": m.title, "course_id": m.course_id, "starts_at": m.starts_at, "ends_at": m.ends_at,
             "location": m.location, "checkout_required": m.checkout_required,
             "signature_required": m.signature_required} for m in found[:500]]


@router.post("/meetings/{meeting_id}/checkins", response={200: AttendanceOut, ERROR_STATUSES: ErrorOut},
             summary="Check a person in or out by employee number (kiosk, badge reader)")
def check_in(request, meeting_id: Id, payload: CheckInIn):
    need(request, "checkin:write")
    meeting = get_object_or_404(visible_meetings(request.user), pk=meeting_id)
    if not can_organise(request.user, meeting):
        raise ApiError(403, "forbidden", _("Only the meeting's organisers and training admins may check people in."))
    employee = Employee.objects.filter(employee_no=payload.employee_no).first()
    if employee is None:
        raise invalid({"employee_no": _("No employee has this number.")})
    now = timezone.now()
    try:
        at = aware(payload.at) if payload.at else now
    except (OverflowError, ValueError):
        at = None
    if at is None or not now - MAX_DELAY <= at <= now + dt.timedelta(minutes=1):
        raise invalid({"at": _("The reading must be from the last 24 hours, and not in the future.")})
    try:
        services.scan(meeting=meeting, employee=employee, mode=payload.mode, scanned_at=at,
                      via=Attendance.Method.MANUAL, device_id="", ip=request.META.get("REMOTE_ADDR"),
                      latitude=payload.latitude, longitude=payload.longitude, signature=payload.signature or "",
                      now=now)
    except services.CheckInRefused as refused:
        raise ApiError(409, refused.reason, refused.message) from None
    return attendance_out(attendance_with_update_time().select_related("meeting", "employee").get(
        meeting=meeting, employee=employee))
