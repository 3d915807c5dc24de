"""Pages of the catalogue: courses, their media and quizzes, categories and credit classes."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.catalog import services
from learntrace.catalog.access import access_course, visible_courses
from learntrace.catalog.forms import CategoryForm, CourseForm, CreditClassForm, QuestionForm, QuizForm
from learntrace.catalog.media import media_response
from learntrace.catalog.models import Category, Course, CourseKind, CreditClass, Question, Quiz
from learntrace.core.audit import save_with_audit
from learntrace.core.csp import allow_framing_by_this_site
from learntrace.core.feedback import show_errors
from learntrace.core.numbers import whole_number
from learntrace.core.paging import page_of
from learntrace.org.access import admin_required, login_required, roles_of


@login_required
def course_list(request):
    courses = visible_courses(request.user)
    kind, category = request.GET.get("kind", ""), request.GET.get("category", "")
    if kind in CourseKind.values:
        courses = courses.filter(kind=kind)
    if (category_id := whole_number(category)) is not None:
        courses = courses.filter(category_id=category_id)
    page, query = page_of(request, courses)
    return render(request, "catalog/course_list.html", {
        "page": page, "query": query, "kinds": CourseKind.choices,
        "categories": Category.objects.filter(is_active=True), "kind": kind, "category": category,
    })


@admin_required
def course_edit(request, course_id=None):
    course = get_object_or_404(Course, pk=course_id) if course_id else Course(created_by=request.user)
    form = CourseForm(request.POST or None, request.FILES or None, instance=course)
    if request.method == "POST" and form.is_valid():
        saved = save_with_audit(actor=request.user, form=form, summary=lambda course: course.title)
        messages.success(request, _("Course saved."))
        return redirect("catalog:course", course_id=saved.pk)
    return render(request, "catalog/course_form.html", {"form": form, "course": course})


@login_required
def course_detail(request, course_id):
    """The course; the person's own progress and the course's meetings are added by the records and
    checkin template tags, since both apps sit above the catalogue."""
    course = access_course(request.user, course_id)
    employee_id = roles_of(request.user).employee_id
    # Only employees' own viewing is tracked, and only media that plays on this page.
    playable = (course.kind == CourseKind.VIDEO and course.video_file) or \
        (course.kind == CourseKind.DOCUMENT and course.document_file)
    return render(request, "catalog/course_detail.html", {
        "course": course, "quiz": Quiz.objects.filter(course=course).first(),
        "tracked": bool(employee_id and course.is_published and playable), "beat_ms": settings.TRACKER_BEAT_MS,
    })


@login_required
def course_media(request, course_id, which):
    course = access_course(request.user, course_id)
    field = course.video_file if which == "video" else course.document_file
    if not field:
        raise Http404
    response = media_response(request, field.name, missing=_(
        "The file of this course is missing on this server. Please tell the training admin."))
    # The course page shows its PDF in a frame; every other response refuses to be framed.
    return allow_framing_by_this_site(response) if which == "document" else response


@admin_required
def quiz_edit(request, course_id):
    course = get_object_or_404(Course, pk=course_id)
    quiz = Quiz.objects.filter(course=course).first() or Quiz(course=course)
    quiz_form = QuizForm(request.POST if "save_quiz" in request.POST else None, instance=quiz)
    question_form = QuestionForm(request.POST if "add_question" in request.POST else None)
    if request.method == "POST":
        if "save_quiz" in request.POST and quiz_form.is_valid():
            save_with_audit(actor=request.user, form=quiz_form, summary=lambda quiz: course.title)
            messages.success(request, _("Quiz saved."))
            return redirect("catalog:quiz_edit", course_id=course.pk)
        if "add_question" in request.POST and question_form.is_valid():
            services.add_question(actor=request.user, quiz=quiz, form=question_form)
            messages.success(request, _("Question added."))
            return redirect("catalog:quiz_edit", course_id=course.pk)
    questions = quiz.questions.prefetch_related("choices") if quiz.pk else []
    return render(request, "catalog/quiz_edit.html", {
        "course": course, "quiz": quiz, "quiz_form": quiz_form, "question_form": question_form,
        "questions": questions,
    })


@require_POST
@admin_required
def question_delete(request, course_id, question_id):
    question = get_object_or_404(Question, pk=question_id, quiz__course_id=course_id)
    try:
        services.remove_question(actor=request.user, question=question)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, _("Question removed."))
    return redirect("catalog:quiz_edit", course_id=course_id)


def _named_list(request, model, form_class, template, list_url, object_id=None):
    instance = get_object_or_404(model, pk=object_id) if object_id else model()
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        save_with_audit(actor=request.user, form=form, summary=lambda saved: saved.name)
        messages.success(request, _("Saved."))
        return redirect(list_url)
    return render(request, template, {"form": form, "items": model.objects.all(), "editing": instance})


@admin_required
def categories(request, category_id=None):
    return _named_list(request, Category, CategoryForm, "catalog/categories.html", "catalog:categories",
                       category_id)


@admin_required
def credit_classes(request, credit_class_id=None):
    return _named_list(request, CreditClass, CreditClassForm, "catalog/credit_classes.html",
                       "catalog:credit_classes", credit_class_id)
