"""The training file (培训档案) of a person, and its transcript PDF."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation

from learntrace.org.access import access_employee, login_required, roles_of
from learntrace.records.selectors import training_file
from learntrace.records.transcript import transcript_pdf


def _person(request, employee_id):
    if employee_id is None:
        employee_id = roles_of(request.user).employee_id
        if employee_id is None:
            raise Http404
    return access_employee(request.user, employee_id)


@login_required
def file_page(request, employee_id=None):
    employee = _person(request, employee_id)
    return render(request, "records/training_file.html", {"file": training_file(employee),
                                                          "own": employee.pk == roles_of(request.user).employee_id})


@login_required
def transcript(request, employee_id=None):
    employee = _person(request, employee_id)
    language = request.GET.get("lang") or translation.get_language()
    if language not in ("zh-hans", "en"):
        language = "zh-hans"
    response = HttpResponse(transcript_pdf(training_file(employee), language=language),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="transcript-{employee.employee_no}-{language}.pdf"'
    return response
