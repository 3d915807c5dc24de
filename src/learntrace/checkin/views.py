"""Pages of meetings: scheduling, the projector, the learner's scan, attendance and its export."""

import functools
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.checkin import scheduling, selectors, services, typed_codes
from learntrace.checkin.access import access_meeting, can_organise, visible_meetings
from learntrace.checkin.forms import CodeForm, ManualForm, MeetingForm
from learntrace.checkin.models import Meeting
from learntrace.core.feedback import show_errors
from learntrace.core.spreadsheets import XLSX_TYPE, xlsx_bytes
from learntrace.org.access import admin_required, login_required, people_reader_required, roles_of
from learntrace.org.models import Employee

DEVICE_COOKIE = "learntrace_device"
SCAN_COOKIE = "learntrace_scan"  # the scanning browser's secret, which its tickets are bound to
DEVICE_SALT = "learntrace.checkin.device"
FIVE_YEARS = 5 * 365 * 24 * 3600


@login_required
def meeting_list(request):
    meetings = visible_meetings(request.user)
    if not meetings.exists() and not roles_of(request.user).can_read_all:
        raise PermissionDenied
    return render(request, "checkin/meeting_list.html", {"meetings": meetings[:200]})


@admin_required
def meeting_edit(request, meeting_id=None):
    meeting = get_object_or_404(Meeting, pk=meeting_id) if meeting_id else Meeting(created_by=request.user)
    form = MeetingForm(request.POST or None, instance=meeting)
    if request.method == "POST" and form.is_valid():
        saved = scheduling.save_meeting(actor=request.user, form=form)
        messages.success(request, _("Meeting saved."))
        return redirect("checkin:meeting", meeting_id=saved.pk)
    return render(request, "checkin/meeting_form.html", {"form": form, "meeting": meeting})


@login_required
def meeting_detail(request, meeting_id):
    meeting = access_meeting(request.user, meeting_id)
    return render(request, "checkin/meeting_detail.html", {
        "meeting": meeting, "rows": selectors.attendance_rows(meeting), "counts": selectors.live_counts(meeting),
        "organiser": can_organise(request.user, meeting), "manual_form": ManualForm(),
        "code_guesses": selectors.code_guesses(meeting), "now": timezone.now(),
        "code_limits": typed_codes.limits(),
    })


@login_required
def projector(request, meeting_id):
    meeting = access_meeting(request.user, meeting_id, organise=True)
    return render(request, "checkin/projector.html", {"meeting": meeting, **_projector_state(request, meeting)})


@login_required
def projector_state(request, meeting_id):
    meeting = access_meeting(request.user, meeting_id, organise=True)
    return render(request, "checkin/_projector_state.html", {"meeting": meeting, **_projector_state(request, meeting)})


@functools.lru_cache(maxsize=64)
def _qr_svg(url: str) -> str:
    """The code's image: the same URL for a whole step of the code (10 s by default), while the
    projector asks every second; drawing it was 40 % of an empty meeting's poll."""
    import segno  # here: only the projector draws codes (memory of every other web process)

    return segno.make_qr(url, error="m").svg_inline(scale=10, border=2, omitsize=True)


def _projector_state(request, meeting: Meeting) -> dict:
    now = timezone.now()
    codes = services.current_codes(meeting, now)
    url = request.build_absolute_uri(reverse("checkin:scan", args=[meeting.pk, codes["token"]]))
    return {"codes": codes, "scan_url": url, "qr": _qr_svg(url), **selectors.projector_figures(meeting, now)}


@login_required
def signature(request, meeting_id, attendance_id):
    """One drawn signature as an image: lists link to it instead of carrying every signature."""
    meeting = access_meeting(request.user, meeting_id)
    attendance = get_object_or_404(meeting.attendances.exclude(signature="").only("signature"), pk=attendance_id)
    png = services.signature_png(attendance.signature)
    if png is None:
        raise Http404
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_POST
@login_required
def toggle_checkout(request, meeting_id):
    meeting = access_meeting(request.user, meeting_id, organise=True)
    services.set_checkout(actor=request.user, meeting=meeting, checkout_open=not meeting.checkout_open)
    return redirect("checkin:projector", meeting_id=meeting.pk)


@require_POST
@login_required
def manual_entry(request, meeting_id):
    meeting = access_meeting(request.user, meeting_id, organise=True)
    form = ManualForm(request.POST)
    if form.is_valid():
        try:
            services.manual(meeting=meeting, employee=form.cleaned_data["employee_no"], actor=request.user,
                            reason=form.cleaned_data["reason"], kind=form.cleaned_data["kind"])
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("Recorded."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("checkin:meeting", meeting_id=meeting.pk)


@login_required
def export(request, meeting_id):
    meeting = access_meeting(request.user, meeting_id)
    response = HttpResponse(xlsx_bytes(selectors.export_headers(), selectors.export_rows(meeting),
                                       sheet_name=_("Attendance")), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="attendance-{meeting.pk}.xlsx"'
    return response


@people_reader_required
def suspicious(request):
    """A page of each list of suspicions; each list pages by its own key, the others keep theirs."""
    roles = roles_of(request.user)
    cursors, kept, refused = selectors.suspicion_cursors(request.GET)
    if refused:
        messages.error(request, _("That page link is not valid any more: here is the first page."))
    pages = selectors.suspicion_pages(paths=None if roles.can_read_all else roles.head_paths, cursors=cursors)
    for kind, page in pages.items():
        others = {name: key for name, key in kept.items() if not name.startswith(f"{kind}_")}
        page.next_url = f"?{urlencode({**others, f'{kind}_after': page.next_key})}#{kind}" if page.next_key else ""
        page.previous_url = (f"?{urlencode({**others, f'{kind}_before': page.previous_key})}#{kind}"
                             if page.previous_key else "")
    return render(request, "checkin/suspicious.html", pages)


# ---------------------------------------------------------------- the learner's side


def _employee(request) -> Employee | None:
    employee_id = roles_of(request.user).employee_id
    return Employee.objects.filter(pk=employee_id).first() if employee_id else None


def _refused(request, meeting, refused: services.CheckInRefused):
    return render(request, "checkin/result.html", {"meeting": meeting, "refused": refused.message,
                                                   "reason": refused.reason})


def _browser_secret(request) -> str:
    """The scanning browser's secret: kept while valid, so that two scans in a row both stay usable."""
    secret = request.COOKIES.get(SCAN_COOKIE)
    return secret if services.valid_browser_secret(secret) else services.new_browser_secret()


def _to_ticket(request, meeting, mode, now, via, previous_code):
    """Redirect to the confirmation of a valid scan, bound to this browser by a cookie (not the session:
    logging in cycles the session key, and a sign-in elsewhere comes back to this browser)."""
    secret = _browser_secret(request)
    key = services.issue_ticket(meeting=meeting, mode=mode, scanned_at=now, via=via, browser_secret=secret,
                                previous_code=previous_code)
    ticket_url = reverse("checkin:ticket", args=[key])
    if request.user.is_authenticated:
        response = redirect(ticket_url)
    else:
        response = redirect(f"{reverse('accounts:login')}?next={ticket_url}")
    # Lax, not Strict: the cookie must come along when a sign-in page elsewhere sends the browser back.
    response.set_cookie(SCAN_COOKIE, secret, max_age=services.TICKET_MAX_AGE, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE or request.is_secure())
    return response


def scan(request, meeting_id, token):
    """The URL in the QR code. The code is judged now, at the scan; the moment is kept in a ticket."""
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    now = timezone.now()
    employee = _employee(request) if request.user.is_authenticated else None
    try:
        mode, previous_code = services.judge_scan(meeting, token, now, detail=True)
    except services.CheckInRefused as refused:
        services.refuse(meeting=meeting, employee=employee, reason=refused.reason, now=now, scanned_at=now,
                        ip=request.META.get("REMOTE_ADDR"))
        return _refused(request, meeting, refused)
    return _to_ticket(request, meeting, mode, now, "scan", previous_code)


@login_required
def by_code(request):
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        meeting = Meeting.objects.filter(pk=form.cleaned_data["meeting"]).first()
        now = timezone.now()
        if meeting is None:
            form.add_error("meeting", _("No meeting has this number."))
        else:
            try:
                mode, previous_code = typed_codes.judge_typed_code(
                    meeting=meeting, employee=_employee(request), ip=request.META.get("REMOTE_ADDR"),
                    code=form.cleaned_data["code"], now=now)
            except services.CheckInRefused as refused:
                return _refused(request, meeting, refused)
            return _to_ticket(request, meeting, mode, now, "code", previous_code)
    return render(request, "checkin/code.html", {"form": form})


def _coordinate(value: str, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit else None


@login_required
def ticket(request, ticket):
    employee = _employee(request)
    if employee is None:
        raise Http404
    browser_secret = request.COOKIES.get(SCAN_COOKIE)
    if request.method != "POST":
        try:
            scanned = services.open_ticket(key=ticket, browser_secret=browser_secret)
        except services.CheckInRefused as refused:
            if refused.reason == "other_browser":  # a forwarded link is worth the admin's attention
                services.refuse(meeting=refused.meeting, employee=employee, reason=refused.reason,
                                scanned_at=refused.scanned_at, ip=request.META.get("REMOTE_ADDR"))
            return _refused(request, refused.meeting, refused)
        return render(request, "checkin/confirm.html", {"meeting": scanned.meeting, "scanned": scanned,
                                                        "needs_location": bool(scanned.meeting.radius_m)})
    device_id = request.get_signed_cookie(DEVICE_COOKIE, default="", salt=DEVICE_SALT) or secrets.token_hex(16)
    try:
        scanned, attendance = services.confirm_ticket(
            key=ticket, browser_secret=browser_secret, employee=employee, device_id=device_id,
            ip=request.META.get("REMOTE_ADDR"), latitude=_coordinate(request.POST.get("latitude"), 90),
            longitude=_coordinate(request.POST.get("longitude"), 180), signature=request.POST.get("signature", ""))
        response = render(request, "checkin/result.html", {"meeting": scanned.meeting, "attendance": attendance,
                                                            "mode": scanned.mode})
    except services.CheckInRefused as refused:
        response = _refused(request, refused.meeting, refused)
    # The device keeps its id whatever happened: it is what binds a phone to one person per meeting.
    response.set_signed_cookie(DEVICE_COOKIE, device_id, salt=DEVICE_SALT, max_age=FIVE_YEARS, httponly=True,
                               samesite="Lax", secure=request.is_secure())
    return response
