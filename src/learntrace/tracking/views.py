"""The tracker's endpoints (JSON), and what HR sees of viewing per course and learner."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Min
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.catalog.access import access_course
from learntrace.catalog.models import Course, CourseKind
from learntrace.org.access import (
    access_employee,
    admin_required,
    login_required,
    people_reader_required,
    roles_of,
    visible_employees,
)
from learntrace.org.models import Employee
from learntrace.plans.models import LearningPlan
from learntrace.records import beat_details, effective
from learntrace.records.models import CreditedTime
from learntrace.tracking import services
from learntrace.tracking.forms import CourseAttentionForm, PlacedQuestionForm, PlanAttentionForm
from learntrace.tracking.intervals import contiguous_from_zero
from learntrace.tracking.models import FLAG_LABELS, Attempt, AttentionCheck, AttentionRule, PlacedQuestion


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _learner(request) -> Employee:
    employee_id = roles_of(request.user).employee_id
    if employee_id is None:
        raise Http404
    return Employee.objects.get(pk=employee_id)


@require_POST
@login_required
def attempt_start(request, course_id):
    course = access_course(request.user, course_id)
    try:
        attempt = services.start_attempt(employee=_learner(request), course=course,
                                         user_agent=request.headers.get("User-Agent", ""))
    except services.BeatRejected as exc:
        return _error(exc.message, exc.status)
    return JsonResponse({"attempt": str(attempt.pk), "started_at": attempt.started_at.isoformat(),
                         **services.coverage_state(attempt.employee, course), **services.attention_state(attempt)})


@require_POST
@login_required
def attention_answer(request):
    """The player's side of an attention check, as a JSON body with the X-CSRFToken header:
    {"attempt": …, "idle": true} opens an idle prompt; {"attempt": …, "check": n, "choices": […]}
    answers a prompt or a question."""
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(_("The request is not valid JSON."))
    if not isinstance(body, dict):
        return _error(_("The request is not valid JSON."))
    try:
        if body.get("idle") is True:
            return JsonResponse({"prompt": services.open_idle_prompt(attempt_id=body.get("attempt"),
                                                                     user_id=request.user.pk)})
        outcome = services.answer_check(attempt_id=body.get("attempt"), user_id=request.user.pk,
                                        check_id=body.get("check"), choices=body.get("choices"))
    except services.BeatRejected as exc:
        return _error(exc.message, exc.status)
    return JsonResponse(outcome.as_dict())


@require_POST
@login_required
def beat(request):
    """Accepts form data (attempt, beat as JSON: what sendBeacon can send with the CSRF token)
    or a JSON body {"attempt": …, "beat": {…}} with the X-CSRFToken header."""
    try:
        attempt_id, data = services.beat_from_request(request)
    except (ValueError, UnicodeDecodeError):
        return _error(_("The beat is not valid JSON."))
    try:
        outcome = services.receive_beat(attempt_id=attempt_id, user_id=request.user.pk, data=data)
    except services.BeatRejected as exc:
        return _error(exc.message, exc.status)
    return JsonResponse(outcome.as_dict())


@people_reader_required
def course_learners(request, course_id):
    course = access_course(request.user, course_id)
    people = visible_employees(request.user)
    states = effective.course_states().filter(course=course, employee__in=people).select_related(
        "employee__department", "employee__user").order_by("employee__department__path", "employee__employee_no")
    page = Paginator(states, 50).get_page(request.GET.get("page"))
    employee_ids = [p.employee_id for p in page.object_list]
    sessions = {row["employee_id"]: row for row in Attempt.objects.filter(course=course, employee_id__in=employee_ids)
                .values("employee_id").annotate(count=Count("id"), first=Min("started_at"))}
    duration_ms = course.duration_seconds * 1000
    rows = [{
        "state": p, "sessions": sessions.get(p.employee_id, {}),
        "percent": min(100, p.covered_ms * 100 // duration_ms) if duration_ms else 0,
        "bar": _bar(p.intervals, duration_ms),
    } for p in page.object_list]
    return render(request, "tracking/course_learners.html", {"course": course, "page": page, "rows": rows})


@people_reader_required
def learner_detail(request, course_id, employee_id):
    course = access_course(request.user, course_id)
    employee = access_employee(request.user, employee_id)
    state = effective.course_states().filter(course=course, employee=employee).first()
    attempts = list(Attempt.objects.filter(course=course, employee=employee).order_by("-started_at")[:100])
    checks: dict = {}
    for check in AttentionCheck.objects.filter(attempt__in=attempts).exclude(
            outcome=AttentionCheck.Outcome.SCHEDULED).order_by("number"):
        checks.setdefault(check.attempt_id, []).append(check)
    totals = {a.pk: {"played_ms": 0, "credited_ms": 0, "cut_ms": 0, "attention_cut_ms": 0, "flags": set(),
                     "last": None} for a in attempts}
    # Found by the person's index on (person, time) from the first of these attempts: the beat's own key
    # (attempt, number) has no index.
    facts = CreditedTime.objects.filter(employee=employee, occurred_at__gte=min(a.started_at for a in attempts),
                                        attempt_id__in=list(totals)) if attempts else CreditedTime.objects.none()
    for attempt_id, stored, compact, recorded_at in facts.values_list("attempt_id", "details", "beat",
                                                                      "recorded_at"):
        details = beat_details.of_fact(stored, compact, recorded_at)
        total = totals[attempt_id]
        for key in ("played_ms", "credited_ms", "cut_ms", "attention_cut_ms"):
            total[key] += details.get(key, 0)
        total["flags"].update(details.get("flags", []))
        total["last"] = max(total["last"] or recorded_at, recorded_at)
    for attempt in attempts:
        total = totals[attempt.pk]
        attempt.played_ms, attempt.credited_ms, attempt.cut_ms = total["played_ms"], total["credited_ms"], \
            total["cut_ms"]
        attempt.last_beat_at = total["last"]
        attempt.flag_labels = sorted(str(FLAG_LABELS.get(flag, flag)) for flag in total["flags"])
        attempt.attention = attention_summary(attempt, checks.get(attempt.pk, []), total["attention_cut_ms"])
    duration_ms = course.duration_seconds * 1000
    intervals = [tuple(i) for i in state.intervals] if state else []
    summary = {key: sum(a.attention[key] for a in attempts) for key in
               ("prompts", "prompts_answered", "prompts_missed", "questions", "right", "wrong", "missed",
                "uncredited_ms")}
    return render(request, "tracking/learner_detail.html", {
        "course": course, "person": employee, "state": state, "attempts": attempts,
        "attention": summary, "has_attention": any(a.idle_ms for a in attempts) or AttentionCheck.objects.filter(
            attempt__in=attempts).exists(),
        "bar": _bar(intervals, duration_ms), "furthest_ms": contiguous_from_zero(intervals),
    })


def attention_summary(attempt: Attempt, checks: list, cut_ms: int) -> dict:
    """What an attempt's attention checks showed and how they were answered, and the time not credited
    because of them: cut past an unanswered question or after an idle deadline, lost to wrong or
    missing answers, and still held for a question never reached or answered."""
    kinds = AttentionCheck.Kind, AttentionCheck.Outcome
    prompts = [c for c in checks if c.kind == kinds[0].IDLE]
    questions = [c for c in checks if c.kind == kinds[0].QUESTION]
    held_ms = sum(end - start for start, end in attempt.held)
    return {
        "prompts": len(prompts),
        "prompts_answered": sum(c.outcome == kinds[1].ANSWERED for c in prompts),
        "prompts_missed": sum(c.outcome in (kinds[1].MISSED, kinds[1].SHOWN) for c in prompts),
        "questions": len(questions),
        "right": sum(c.outcome == kinds[1].RIGHT for c in questions),
        "wrong": sum(c.outcome == kinds[1].WRONG for c in questions),
        "missed": sum(c.outcome in (kinds[1].MISSED, kinds[1].SHOWN) for c in questions),
        "uncredited_ms": cut_ms + sum(c.uncredited_ms for c in questions) + held_ms,
    }


def _bar(intervals, duration_ms: int) -> list[tuple[float, float]]:
    """Watched intervals as (left %, width %) for a one-line picture."""
    if not duration_ms:
        return []
    return [(round(start * 100 / duration_ms, 2), round((end - start) * 100 / duration_ms, 2))
            for start, end in intervals]


# ---------------------------------------------------------------- the admin's attention settings


@admin_required
def course_attention(request, course_id):
    course = get_object_or_404(Course, pk=course_id, kind__in=services.TRACKED_KINDS)
    rule = AttentionRule.objects.filter(course=course).first() or AttentionRule(course=course)
    posted = request.POST if request.method == "POST" else None
    rule_form = CourseAttentionForm(posted if "save_rule" in request.POST else None, instance=rule, course=course)
    place_form = PlacedQuestionForm(posted if "place" in request.POST else None, course=course)
    if request.method == "POST":
        if "save_rule" in request.POST and rule_form.is_valid():
            services.save_attention_rule(actor=request.user, form=rule_form)
            messages.success(request, _("Attention settings saved."))
            return redirect("tracking:course_attention", course_id=course.pk)
        if "place" in request.POST and place_form.is_valid():
            services.place_question(actor=request.user, course=course, question=place_form.cleaned_data["question"],
                                    at_seconds=place_form.cleaned_data["moment"])
            messages.success(request, _("Question placed."))
            return redirect("tracking:course_attention", course_id=course.pk)
    return render(request, "tracking/course_attention.html", {
        "course": course, "rule_form": rule_form, "place_form": place_form,
        "is_video": course.kind == CourseKind.VIDEO,
        "placed": PlacedQuestion.objects.filter(course=course).select_related("question"),
    })


@require_POST
@admin_required
def placed_question_delete(request, course_id, placed_id):
    placed = get_object_or_404(PlacedQuestion.objects.select_related("course"), pk=placed_id, course_id=course_id)
    services.remove_placed_question(actor=request.user, placed=placed)
    messages.success(request, _("Question removed from the video."))
    return redirect("tracking:course_attention", course_id=course_id)


@admin_required
def plan_attention(request, plan_id):
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    rule = AttentionRule.objects.filter(plan=plan).first() or AttentionRule(plan=plan)
    form = PlanAttentionForm(request.POST if request.method == "POST" else None, instance=rule)
    if request.method == "POST" and form.is_valid():
        services.save_attention_rule(actor=request.user, form=form)
        messages.success(request, _("Attention settings saved."))
        return redirect("plans:plan", plan_id=plan.pk)
    return render(request, "tracking/plan_attention.html", {"plan": plan, "form": form})
