"""The learner's pages: my exams, sitting one (on a phone too), and the result with its review."""

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.exams import services
from learntrace.exams.access import access_result, learner, own_sitting
from learntrace.exams.models import BankQuestion, Exam, ExamResult, QuestionKind, Sitting
from learntrace.exams.services import Refused
from learntrace.org.access import login_required, roles_of


@login_required
def my_exams(request):
    employee = learner(request.user)
    services.close_overdue(employee=employee)
    results = ExamResult.objects.filter(employee=employee).select_related("exam")
    used, passed = {}, set()
    for result in results:
        used[result.exam_id] = used.get(result.exam_id, 0) + 1
        if result.passed:
            passed.add(result.exam_id)
    running = {s.exam_id: s for s in Sitting.objects.filter(employee=employee, ended_at__isnull=True)}
    exams = [
        {"exam": exam, "used": used.get(exam.pk, 0), "passed": exam.pk in passed, "running": running.get(exam.pk),
         "can_start": exam.pk not in passed and used.get(exam.pk, 0) < exam.attempts_allowed}
        for exam in services.open_exams()
    ]
    return render(request, "exams/my_exams.html", {"exams": exams, "results": results})


@require_POST
@login_required
def start(request, exam_id):
    exam = get_object_or_404(services.open_exams(), pk=exam_id)
    try:
        sitting = services.start(exam=exam, employee=learner(request.user))
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect("exams:my")
    return redirect("exams:sitting", sitting_id=sitting.pk)


@login_required
def sitting_page(request, sitting_id):
    sitting = own_sitting(request.user, sitting_id)
    if sitting.is_running and timezone.now() > sitting.deadline:
        services.close_overdue(employee=sitting.employee)
        sitting.refresh_from_db()
    if not sitting.is_running:
        return redirect("exams:result", result_id=sitting.result.pk)
    questions = [
        {"number": n, "entry": entry, "question": question, "choices": choices,
         "given": sitting.answers.get(str(entry["q"]))}
        for n, (entry, question, choices) in enumerate(services.questions_of(sitting), start=1)
    ]
    remaining = max(int((sitting.deadline - timezone.now()).total_seconds()), 0)
    return render(request, "exams/sitting.html", {
        "sitting": sitting, "exam": sitting.exam, "questions": questions, "remaining": remaining,
        "kinds": QuestionKind,
    })


def _answers_from_form(request, sitting: Sitting) -> dict:
    """{question id: value} from the exam form: lists for choice questions, a text otherwise;
    fields of questions that are not on the paper are passed on for the service to refuse."""
    kinds = dict(BankQuestion.objects.filter(pk__in=[entry["q"] for entry in sitting.paper]).values_list("pk", "kind"))
    answers: dict = {}
    for name in request.POST:
        if not (name.startswith("q") and name[1:].isdigit()):
            continue
        kind = kinds.get(int(name[1:]))
        values = request.POST.getlist(name)
        answers[name[1:]] = values if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, None) else values[0]
    return answers


def _json_error(exc: Refused, sitting: Sitting) -> JsonResponse:
    status = 409 if exc.code in ("ended", "time_up") else 400
    ended = exc.code in ("ended", "time_up")
    return JsonResponse({"error": exc.message, "code": exc.code, "ended": ended,
                         "result_url": reverse("exams:sitting", args=[sitting.pk]) if ended else ""}, status=status)


@require_POST
@login_required
def save(request, sitting_id):
    """Answers as JSON {"answers": {question id: value}} (X-CSRFToken header), saved as given."""
    sitting = own_sitting(request.user, sitting_id)
    try:
        answers = json.loads(request.body or b"{}").get("answers")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return JsonResponse({"error": _("The answers are not valid JSON."), "code": "bad_answer"}, status=400)
    try:
        saved = services.save_answers(sitting=sitting, answers=answers)
    except Refused as exc:
        return _json_error(exc, sitting)
    return JsonResponse({"saved": len(saved.answers),
                         "remaining": max(int((saved.deadline - timezone.now()).total_seconds()), 0)})


@require_POST
@login_required
def left(request, sitting_id):
    """The page was hidden (another app, another tab, the screen locked)."""
    sitting = own_sitting(request.user, sitting_id)
    try:
        sitting = services.page_left(sitting=sitting)
    except Refused as exc:
        return _json_error(exc, sitting)
    limit = sitting.exam.leave_limit
    return JsonResponse({"count": sitting.hidden_count, "limit": limit, "ended": not sitting.is_running,
                         "result_url": reverse("exams:sitting", args=[sitting.pk])})


@require_POST
@login_required
def submit(request, sitting_id):
    sitting = own_sitting(request.user, sitting_id)
    try:
        result = services.submit(sitting=sitting, answers=_answers_from_form(request, sitting))
    except Refused as exc:
        if exc.code not in ("ended", "time_up"):
            messages.error(request, exc.message)
            return redirect("exams:sitting", sitting_id=sitting.pk)
        if exc.code == "time_up":
            messages.warning(request, exc.message)
        return redirect("exams:sitting", sitting_id=sitting.pk)
    messages.success(request, _("Your answers were submitted."))
    return redirect("exams:result", result_id=result.pk)


@login_required
def result_page(request, result_id):
    result = access_result(request.user, result_id)
    roles = roles_of(request.user)
    own = result.employee_id == roles.employee_id
    review = result.exam.review if own and not roles.can_read_all else Exam.Review.CORRECT
    lines = services.review(result) if review != Exam.Review.NONE else []
    return render(request, "exams/result.html", {
        "result": result, "own": own, "lines": lines, "show_correct": review == Exam.Review.CORRECT,
        "kinds": QuestionKind, "certificates": result.certificates.all(),
    })
