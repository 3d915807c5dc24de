"""Meetings, scheduled and changed through the meeting page's own form (its checks, its audit
entry); check-in for kiosks and badge readers: the same rules and the same facts as a scan of the
rotating code, made by an organiser's token for a person named by employee number."""

import datetime as dt
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from learntrace.api.v1.auth import need, need_admin
from learntrace.api.v1.errors import ERROR_STATUSES, ApiError, ErrorOut, invalid
from learntrace.api.v1.page_forms import current_data, form_errors, refusal
from learntrace.api.v1.pagination import aware
from learntrace.api.v1.records import AttendanceOut, attendance_out, attendance_with_update_time
from learntrace.api.v1.types import NO_NUL, Id, Key, Text
from learntrace.checkin import scheduling, services
from learntrace.checkin.access import can_organise, visible_meetings
from learntrace.checkin.forms import MeetingForm
from learntrace.checkin.models import Attendance, Meeting
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


class MeetingIn(Schema):
    """A meeting as the meeting page edits it. Scheduling one needs course_id (an offline or live
    course), title, starts_at and ends_at; a change sends only what changes (null clears an optional
    value). `people` and `organisers` are employee numbers and replace the current lists."""

    course_id: Id | None = None
    title: Text | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    location: Text | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    radius_m: int | None = Field(None, ge=0, le=2**31 - 1)
    allowed_networks: list[Key] | None = Field(None, max_length=100, description="IP ranges such as 10.8.0.0/16.")
    roster: Meeting.Roster | None = None
    roster_plan_id: Id | None = Field(None, description="With roster `plan`: the plan whose audience is expected.")
    people: list[Key] | None = Field(None, max_length=5000, description="With roster `people`.")
    organisers: list[Key] | None = Field(None, max_length=100)
    opens_minutes_before: int | None = Field(None, ge=0, le=2**31 - 1)
    closes_minutes_after: int | None = Field(None, ge=0, le=2**31 - 1)
    late_after_minutes: int | None = Field(None, ge=0, le=2**31 - 1)
    checkout_required: bool | None = None
    credit: Meeting.Credit | None = None
    signature_required: bool | None = None
    rotation_seconds: int | None = Field(None, ge=0, le=32767)


# The page form's field names that the API calls otherwise.
MEETING_NAMES = {"course": "course_id", "roster_plan": "roster_plan_id", "organiser_numbers": "organisers"}


def meeting_out(meeting) -> dict:
    return {"id": meeting.pk, "title": meeting.title, "course_id": meeting.course_id, "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at, "location": meeting.location, "checkout_required": meeting.checkout_required,
            "signature_required": meeting.signature_required}


def _save_meeting(request, meeting: Meeting, payload: MeetingIn) -> Meeting:
    data = current_data(MeetingForm(instance=meeting))
    sent = payload.model_dump(exclude_unset=True)
    for name in ("starts_at", "ends_at"):
        if sent.get(name) is not None:
            try:
                sent[name] = aware(sent[name])
            except (OverflowError, ValueError):
                raise refusal({name: _("Not a usable date and time.")}) from None
    for api_name, form_name in (("people", "people"), ("organisers", "organiser_numbers"),
                                ("allowed_networks", "allowed_networks")):
        if api_name in sent:
            data[form_name] = "\n".join(sent.pop(api_name) or [])
    for api_name, form_name in (("course_id", "course"), ("roster_plan_id", "roster_plan")):
        if api_name in sent:
            data[form_name] = sent.pop(api_name)
    data.update(sent)
    # The API names the course by its id: a new meeting's page offers a new course first, the API does not.
    data["course_source"] = MeetingForm.EXISTING
    form = MeetingForm(data, instance=meeting)
    if not form.is_valid():
        raise refusal(form_errors(form, MEETING_NAMES))
    return scheduling.save_meeting(actor=request.user, form=form)


@router.post("/meetings", response={201: MeetingOut, ERROR_STATUSES: ErrorOut},
             summary="Schedule a meeting (training admins)")
def create_meeting(request, payload: MeetingIn):
    need_admin(request, "meetings:write")
    return Status(201, meeting_out(_save_meeting(request, Meeting(created_by=request.user), payload)))


@router.patch("/meetings/{meeting_id}", response={200: MeetingOut, ERROR_STATUSES: ErrorOut},
              summary="Change a meeting: only the fields sent (training admins)")
def update_meeting(request, meeting_id: Id, payload: MeetingIn):
    need_admin(request, "meetings:write")
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    return meeting_out(_save_meeting(request, meeting, payload))


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
    return [meeting_out(m) for m in found[:500]]


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
