"""Pages of the training file (培训档案): a person's history, its transcript PDF and evidence bundle."""

import datetime as dt

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from learntrace.core.files import FileMissing, attachment
from learntrace.core.months import local_zone
from learntrace.evidence.bundle import bundle_name, make_bundle
from learntrace.evidence.keys import SigningKeyUnavailable, missing_key_message
from learntrace.org.access import access_employee, login_required, roles_of
from learntrace.trainingfile.selectors import training_file


def _person(request, employee_id):
    if employee_id is None:
        employee_id = roles_of(request.user).employee_id
        if employee_id is None:
            raise Http404
    return access_employee(request.user, employee_id)


@login_required
def file_page(request, employee_id=None):
    employee = _person(request, employee_id)
    return render(request, "trainingfile/training_file.html", {"file": training_file(employee),
                                                          "own": employee.pk == roles_of(request.user).employee_id})


@login_required
def bundle(request, employee_id=None):
    """The person's evidence bundle for a date range (default: everything), to verify offline."""
    employee = _person(request, employee_id)
    zone = local_zone()
    try:
        start = dt.date.fromisoformat(request.GET.get("from") or "2000-01-01")
        end = dt.date.fromisoformat(request.GET.get("to") or "2100-01-01") + dt.timedelta(days=1)
    except (ValueError, OverflowError):  # OverflowError: the day after 9999-12-31
        return JsonResponse({"error": _("Give the dates as 2026-01-31.")}, status=400)
    try:
        data = make_bundle(employee, start=dt.datetime.combine(start, dt.time.min, tzinfo=zone),
                           end=dt.datetime.combine(end, dt.time.min, tzinfo=zone))
    except SigningKeyUnavailable as exc:
        raise FileMissing(missing_key_message()) from exc
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = attachment(bundle_name(employee))
    return response


@login_required
def transcript(request, employee_id=None):
    employee = _person(request, employee_id)
    language = request.GET.get("lang") or translation.get_language()
    if language not in ("zh-hans", "en"):
        language = "zh-hans"
    from learntrace.trainingfile.transcript import transcript_pdf  # here: reportlab only where PDFs are made

    response = HttpResponse(transcript_pdf(training_file(employee), language=language),
                            content_type="application/pdf")
    response["Content-Disposition"] = attachment(f"transcript-{employee.employee_no}-{language}.pdf")
    return response


@login_required
def certificate(request, year, employee_id=None):
    """The person's credit certificate (学分证明) of a year, for upload where no import exists."""
    employee = _person(request, employee_id)
    if not 2000 <= year <= 2100:
        raise Http404
    language = request.GET.get("lang") or translation.get_language()
    if language not in ("zh-hans", "en"):
        language = "zh-hans"
    from learntrace.trainingfile.certificate import certificate_pdf  # here: reportlab only where PDFs are made

    response = HttpResponse(certificate_pdf(employee, year, language=language), content_type="application/pdf")
    response["Content-Disposition"] = attachment(f"credits-{year}-{employee.employee_no}-{language}.pdf")
    return response
