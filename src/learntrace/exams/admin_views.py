"""The training admin's pages of the exam centre: question banks (with an import and each
question's statistics), exams and their papers, and the results. Auditors may read them."""

import logging

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from learntrace.core.audit import delete_with_audit, save_with_audit
from learntrace.core.feedback import show_errors
from learntrace.core.files import local_copy, remove
from learntrace.core.logs import log_failure
from learntrace.exams import services
from learntrace.exams.forms import BankForm, ExamForm, ItemForm, QuestionForm, QuestionUploadForm, RuleForm
from learntrace.exams.importing import QuestionImport
from learntrace.exams.models import BankQuestion, Exam, ExamItem, ExamRule, QuestionBank
from learntrace.org.access import admin_required, reader_required, roles_of
from learntrace.org.importing import UNEXPECTED_ERROR, ImportFileError
from learntrace.org.uploads import store_upload

log = logging.getLogger(__name__)
IMPORT_SALT = "learntrace.exams.questions"


def _posting(request) -> bool:
    """A write on a page that auditors may read: only admins may send it."""
    if request.method != "POST":
        return False
    if not roles_of(request.user).is_admin:
        raise PermissionDenied
    return True


@reader_required
def banks(request):
    posting = _posting(request)
    form = BankForm(request.POST if posting else None)
    if posting and form.is_valid():
        bank = save_with_audit(actor=request.user, form=form, summary=lambda bank: bank.name)
        messages.success(request, _("Question bank created."))
        return redirect("exams:bank", bank_id=bank.pk)
    rows = QuestionBank.objects.select_related("category").annotate(
        total=Count("questions"), active=Count("questions", filter=Q(questions__is_active=True)))
    return render(request, "exams/banks.html", {"banks": rows, "form": form})


@admin_required
def bank_edit(request, bank_id):
    bank = get_object_or_404(QuestionBank, pk=bank_id)
    form = BankForm(request.POST or None, instance=bank)
    if request.method == "POST" and form.is_valid():
        save_with_audit(actor=request.user, form=form, summary=lambda bank: bank.name)
        messages.success(request, _("Saved."))
        return redirect("exams:bank", bank_id=bank.pk)
    return render(request, "exams/bank_form.html", {"form": form, "bank": bank})


@reader_required
def bank_detail(request, bank_id):
    """The bank's questions with how often each was shown in submitted sittings and answered right."""
    bank = get_object_or_404(QuestionBank.objects.select_related("category"), pk=bank_id)
    questions = services.question_stats(bank.questions.all()).prefetch_related("choices").order_by("id")
    page = Paginator(questions, 50).get_page(request.GET.get("page"))
    for question in page:
        question.rate = services.correct_rate(question)
    return render(request, "exams/bank_detail.html", {"bank": bank, "page": page})


@admin_required
def question_edit(request, bank_id, question_id=None):
    bank = get_object_or_404(QuestionBank, pk=bank_id)
    question = get_object_or_404(BankQuestion, pk=question_id, bank=bank) if question_id else BankQuestion(bank=bank)
    form = QuestionForm(request.POST or None, instance=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_question(actor=request.user, question=form.save(commit=False), choices=form.choices)
        except ValidationError as exc:
            show_errors(request, exc)
        else:
            messages.success(request, _("Question saved."))
            return redirect("exams:bank", bank_id=bank.pk)
    return render(request, "exams/question_form.html", {"form": form, "bank": bank, "question": question})


@admin_required
def bank_import(request, bank_id):
    """Upload, check (dry run: every error of every row), then confirm; the checked file is named by a signed token."""
    bank = get_object_or_404(QuestionBank, pk=bank_id)
    result, token, form = None, "", QuestionUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and "token" in request.POST:
        try:
            upload = signing.loads(request.POST["token"], salt=IMPORT_SALT, max_age=3600)
        except signing.BadSignature:
            messages.error(request, _("The checked file has expired; upload it again."))
            return redirect("exams:bank_import", bank_id=bank.pk)
        if upload.get("bank") != bank.pk:
            raise PermissionDenied
        try:
            with local_copy(upload["path"]) as path:  # checked on this node or another
                result = QuestionImport(path, upload["name"], bank).apply(actor=request.user)
        except OSError:
            messages.error(request, _("The checked file has expired; upload it again."))
            return redirect("exams:bank_import", bank_id=bank.pk)
        except ImportFileError as exc:
            messages.error(request, str(exc))
            return redirect("exams:bank_import", bank_id=bank.pk)
        except Exception as exc:
            log_failure(log, "question import failed", exc)
            messages.error(request, str(UNEXPECTED_ERROR))
            return redirect("exams:bank_import", bank_id=bank.pk)
        if result.ok:
            remove(upload["path"])
            messages.success(request, _("Imported %(count)d questions.") % {"count": result.added})
            return redirect("exams:bank", bank_id=bank.pk)
    elif request.method == "POST" and form.is_valid():
        stored, _sha = store_upload(form.cleaned_data["file"])
        try:
            with local_copy(stored) as path:
                result = QuestionImport(path, form.cleaned_data["file"].name, bank).dry_run()
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            remove(stored)
        except Exception as exc:
            log_failure(log, "question import check failed", exc)
            form.add_error("file", str(UNEXPECTED_ERROR))
            remove(stored)
        else:
            if result.ok:
                token = signing.dumps({"path": stored, "name": form.cleaned_data["file"].name, "bank": bank.pk},
                                      salt=IMPORT_SALT)
            else:
                remove(stored)
    return render(request, "exams/bank_import.html", {"bank": bank, "form": form, "result": result, "token": token})


@reader_required
def exam_list(request):
    exams = Exam.objects.annotate(
        sat=Count("results"), passed=Count("results", filter=Q(results__passed=True)),
        people=Count("results__employee", distinct=True))
    return render(request, "exams/exam_list.html", {"exams": exams})


@admin_required
def exam_edit(request, exam_id=None):
    exam = get_object_or_404(Exam, pk=exam_id) if exam_id else Exam(created_by=request.user)
    form = ExamForm(request.POST or None, instance=exam)
    if request.method == "POST" and form.is_valid():
        saved = save_with_audit(actor=request.user, form=form, summary=lambda exam: exam.title)
        messages.success(request, _("Exam saved."))
        return redirect("exams:exam", exam_id=saved.pk)
    return render(request, "exams/exam_form.html", {"form": form, "exam": exam})


@reader_required
def exam_detail(request, exam_id):
    exam = get_object_or_404(Exam, pk=exam_id)
    results = services.results_of(exam)
    page = Paginator(results, 50).get_page(request.GET.get("page"))
    summary = results.aggregate(sat=Count("pk"), passed=Count("pk", filter=Q(passed=True)),
                                people=Count("employee", distinct=True))
    return render(request, "exams/exam_detail.html", {
        "exam": exam, "page": page, "summary": summary,
        "items": exam.items.select_related("question", "question__bank"),
        "rules": exam.rules.select_related("category"),
        "item_form": ItemForm(exam=exam), "rule_form": RuleForm(),
        "running": exam.sittings.filter(ended_at__isnull=True).count(),
    })


@admin_required
def exam_paper(request, exam_id):
    """Add or remove a question of a fixed paper, or a rule of a random one."""
    exam = get_object_or_404(Exam, pk=exam_id)
    if request.method != "POST":
        return redirect("exams:exam", exam_id=exam.pk)
    if exam.sittings.exists():
        messages.error(request, _("People have already sat this exam; its paper can no longer change."))
        return redirect("exams:exam", exam_id=exam.pk)
    if "remove_item" in request.POST:
        item = get_object_or_404(ExamItem, pk=request.POST["remove_item"], exam=exam)
        delete_with_audit(actor=request.user, obj=item, summary=f"{exam.title}: {item.question.text[:80]}")
    elif "remove_rule" in request.POST:
        rule = get_object_or_404(ExamRule, pk=request.POST["remove_rule"], exam=exam)
        delete_with_audit(actor=request.user, obj=rule, summary=f"{exam.title}: {rule.category} × {rule.count}")
    else:
        form = (ItemForm(request.POST, exam=exam, instance=ExamItem(exam=exam, position=exam.items.count()))
                if "add_item" in request.POST else RuleForm(request.POST, instance=ExamRule(exam=exam)))
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("exams:exam", exam_id=exam.pk)
        save_with_audit(actor=request.user, form=form, summary=lambda saved: exam.title)
    messages.success(request, _("Paper saved."))
    return redirect("exams:exam", exam_id=exam.pk)
