"""Pages of an online meeting's attendance: its platform and presence rule, the upload (or the
Feishu fetch) with its dry run, the review of participants not matched for sure, and the credit."""

import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.checkin.access import access_meeting
from learntrace.core.audit import save_with_audit
from learntrace.core.feedback import show_errors
from learntrace.core.months import local_zone
from learntrace.onlineattendance import feishu, services
from learntrace.onlineattendance.formats import ParticipantFileError, read_file
from learntrace.onlineattendance.forms import OnlineMeetingForm, ParticipantFileForm
from learntrace.onlineattendance.models import Participant, ParticipantImport, Platform
from learntrace.org.access import login_required
from learntrace.org.models import Employee


def _online(request, meeting_id):
    meeting = access_meeting(request.user, meeting_id, organise=True)
    try:
        return services.online_of(meeting)
    except services.NotOnline:
        raise Http404 from None


def _page(request, online, *, errors=None, error_count=0, file_error="", form=None, upload=None, status=200):
    return render(request, "onlineattendance/meeting.html", {
        "online": online, "meeting": online.meeting, "form": form or OnlineMeetingForm(instance=online),
        "upload": upload or ParticipantFileForm(), "imports": online.imports.select_related("created_by")[:50],
        "errors": errors or [], "error_count": error_count, "file_error": file_error,
        "can_fetch": online.platform == Platform.FEISHU,
    }, status=status)


@login_required
def meeting(request, meeting_id):
    online = _online(request, meeting_id)
    if request.method == "POST":
        form = OnlineMeetingForm(request.POST, instance=online)
        if form.is_valid():
            save_with_audit(actor=request.user, form=form, summary=lambda saved: saved.meeting.title)
            messages.success(request, _("Saved."))
            return redirect("onlineattendance:meeting", meeting_id=online.meeting_id)
        return _page(request, online, form=form, status=400)
    return _page(request, online)


def _dry_run(request, online, parsed, *, source, file_name="", data=b""):
    if parsed.error_count:
        return _page(request, online, errors=parsed.errors, error_count=parsed.error_count, status=400)
    batch = services.create_import(actor=request.user, online=online, parsed=parsed, source=source,
                                   file_name=file_name, data=data)
    return redirect("onlineattendance:review", import_id=batch.pk)


@require_POST
@login_required
def upload(request, meeting_id):
    online = _online(request, meeting_id)
    form = ParticipantFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, online, upload=form, status=400)
    incoming = form.cleaned_data["file"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("upload" + Path(incoming.name).suffix.lower()[:8])
        with path.open("wb") as handle:
            for chunk in incoming.chunks():
                handle.write(chunk)
        try:
            parsed = read_file(path, incoming.name, local_zone())
        except ParticipantFileError as exc:
            return _page(request, online, file_error=str(exc), status=400)
        data = path.read_bytes()
    return _dry_run(request, online, parsed, source=ParticipantImport.Source.FILE, file_name=incoming.name, data=data)


@require_POST
@login_required
def fetch(request, meeting_id):
    online = _online(request, meeting_id)
    if online.platform != Platform.FEISHU:
        return _page(request, online, file_error=_("Fetching is available for Feishu meetings."), status=400)
    try:
        parsed = feishu.fetch(online, local_zone())
    except feishu.FetchError as exc:
        return _page(request, online, file_error=str(exc), status=400)
    return _dry_run(request, online, parsed, source=ParticipantImport.Source.API)


def _batch(request, import_id) -> ParticipantImport:
    batch = get_object_or_404(ParticipantImport.objects.select_related("online__meeting__course"), pk=import_id)
    access_meeting(request.user, batch.online.meeting_id, organise=True)
    return batch


@login_required
def review(request, import_id):
    batch = _batch(request, import_id)
    if request.method == "POST":
        _decisions(request, batch)
        return redirect("onlineattendance:review", import_id=batch.pk)
    participants = list(batch.participants.select_related("employee__department").prefetch_related(
        "candidates__department"))
    online = batch.online
    for participant in participants:
        participant.meets_rule = services.meets_rule(online, participant.present_seconds)
        participant.share = (participant.present_seconds * 100 // online.meeting.duration_seconds
                             if online.meeting.duration_seconds else 0)
    return render(request, "onlineattendance/review.html", {
        "batch": batch, "online": online, "meeting": online.meeting, "participants": participants,
        "open_rows": services.open_rows(batch),
        "counts": {match: sum(1 for p in participants if p.match == match) for match in Participant.Match.values},
    })


def _decisions(request, batch):
    """Each reviewed row: "skip", an offered candidate's id, or an employee number typed in."""
    chosen = 0
    for participant in batch.participants.filter(match__in=[Participant.Match.AMBIGUOUS, Participant.Match.UNMATCHED]):
        choice = request.POST.get(f"choice-{participant.pk}", "")
        number = request.POST.get(f"number-{participant.pk}", "").strip()
        try:
            if number:
                employee = Employee.objects.filter(employee_no=number, is_active=True).first()
                if employee is None:
                    raise ValidationError(_("No active employee has the number %(number)s.") % {"number": number})
                services.decide(actor=request.user, participant=participant, employee=employee)
            elif choice == "skip":
                services.decide(actor=request.user, participant=participant, skip=True)
            elif choice:
                employee = participant.candidates.filter(pk=choice if choice.isdigit() else None).first()
                if employee is None:
                    raise ValidationError(_("Choose one of the people offered."))
                services.decide(actor=request.user, participant=participant, employee=employee)
            else:
                continue
            chosen += 1
        except ValidationError as exc:
            show_errors(request, exc)
    if chosen:
        messages.success(request, _("Your choices were saved."))


@require_POST
@login_required
def apply(request, import_id):
    batch = _batch(request, import_id)
    try:
        counts = services.apply(actor=request.user, batch=batch)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("%(count)d people were credited.") % {"count": counts[services.CREDITED]})
    return redirect("onlineattendance:review", import_id=batch.pk)


@require_POST
@login_required
def discard(request, import_id):
    batch = _batch(request, import_id)
    try:
        services.discard(actor=request.user, batch=batch)
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("onlineattendance:meeting", meeting_id=batch.online.meeting_id)
