"""Taking a course's quiz, corrections of a person's facts and the import of past training records."""

import logging
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.catalog.access import access_course
from learntrace.catalog.models import Quiz
from learntrace.core.feedback import show_errors
from learntrace.core.files import local_copy, remove
from learntrace.core.logs import log_failure
from learntrace.core.numbers import whole_number
from learntrace.org.access import access_employee, admin_required, login_required, roles_of
from learntrace.org.importing import UNEXPECTED_ERROR, ImportFileError
from learntrace.org.models import Employee
from learntrace.org.uploads import store_upload
from learntrace.records import services
from learntrace.records.forms import HistoryUploadForm
from learntrace.records.history import HistoryImport
from learntrace.records.models import Completion, CreditedTime, QuizAttempt
from learntrace.records.services import QuizClosed, submit_quiz

log = logging.getLogger(__name__)


HISTORY_SALT = "learntrace.records.history"


@admin_required
def import_history(request):
    """Upload, check (dry run), then confirm: the checked file is named by a signed token."""
    result, token, form = None, "", HistoryUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and "token" in request.POST:
        try:
            upload = signing.loads(request.POST["token"], salt=HISTORY_SALT, max_age=3600)
        except signing.BadSignature:
            messages.error(request, _("The checked file has expired; upload it again."))
            return redirect("records:import_history")
        try:
            with local_copy(upload["path"]) as path:  # checked on this node or another
                result = HistoryImport(path, upload["name"]).apply(actor=request.user)
        except OSError:
            messages.error(request, _("The checked file has expired; upload it again."))
            return redirect("records:import_history")
        except ImportFileError as exc:
            messages.error(request, str(exc))
            return redirect("records:import_history")
        except Exception as exc:
            log_failure(log, "history import failed", exc)
            remove(upload["path"])
            messages.error(request, str(UNEXPECTED_ERROR))
            return redirect("records:import_history")
        if result.ok:
            remove(upload["path"])
            messages.success(request, _("Imported: %(facts)d records of time and %(completions)d completions.")
                             % {"facts": result.facts, "completions": result.completions})
            return redirect("records:import_history")
    elif request.method == "POST" and form.is_valid():
        stored, _sha = store_upload(form.cleaned_data["file"])
        try:
            with local_copy(stored) as path:
                result = HistoryImport(path, form.cleaned_data["file"].name).dry_run()
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            remove(stored)
        except Exception as exc:
            log_failure(log, "history import check failed", exc)
            form.add_error("file", str(UNEXPECTED_ERROR))
            remove(stored)
        else:
            if result.ok:
                token = signing.dumps({"path": stored, "name": form.cleaned_data["file"].name},
                                      salt=HISTORY_SALT)
            else:
                remove(stored)
    return render(request, "records/import_history.html", {"form": form, "result": result, "token": token})


@require_POST
@admin_required
def correct(request, employee_id):
    """A training admin corrects a fact of this person: voids a completion or adjusts credited time."""
    employee = access_employee(request.user, employee_id, write=True)
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("kind") == "void":
            completion = get_object_or_404(Completion, pk=request.POST.get("completion") or 0, employee=employee)
            services.void_completion(actor=request.user, completion=completion, reason=reason)
        else:
            fact = get_object_or_404(CreditedTime, pk=request.POST.get("fact") or 0, employee=employee)
            try:
                minutes = Decimal(request.POST.get("minutes", ""))
                if not minutes.is_finite() or abs(minutes) > 100_000:
                    raise InvalidOperation
            except InvalidOperation:
                raise ValidationError(_("Give the minutes to add (or, negative, to take away).")) from None
            services.correct_time(actor=request.user, fact=fact, seconds_delta=int(minutes * 60), reason=reason)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Correction recorded."))
    return redirect("trainingfile:file", employee_id=employee.pk)


@login_required
def quiz_take(request, course_id):
    course = access_course(request.user, course_id)
    quiz = get_object_or_404(Quiz.objects.prefetch_related("questions__choices"), course=course)
    employee_id = roles_of(request.user).employee_id
    if employee_id is None:
        raise Http404
    attempts = list(QuizAttempt.objects.filter(quiz=quiz, employee_id=employee_id))
    error = ""
    if request.method == "POST":
        answers = {}
        for question in quiz.questions.all():
            valid = {c.pk for c in question.choices.all()}
            picked = {whole_number(v) for v in request.POST.getlist(f"q{question.pk}")} - {None}
            answers[question.pk] = picked & valid
        if any(not picked for picked in answers.values()):
            error = _("Answer every question.")
        else:
            try:
                attempt = submit_quiz(employee=Employee.objects.get(pk=employee_id), quiz=quiz, answers=answers,
                                      at=timezone.now())
            except QuizClosed:
                messages.error(request, _("This quiz takes no more attempts."))
            else:
                if attempt.passed:
                    messages.success(request, _("Passed with %(score)d%%.") % {"score": attempt.score})
                else:
                    messages.warning(request, _("%(score)d%%: below the pass mark of %(mark)d%%.")
                                     % {"score": attempt.score, "mark": quiz.pass_mark})
            return redirect("catalog:course", course_id=course.pk)
    closed = any(a.passed for a in attempts) or len(attempts) >= quiz.attempts_allowed
    return render(request, "records/quiz_take.html", {
        "course": course, "quiz": quiz, "attempts": attempts, "closed": closed, "error": error,
    })
