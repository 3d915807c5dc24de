"""The tracker's endpoints (JSON), and what HR sees of viewing per course and learner."""

import json

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.catalog.access import access_course
from learntrace.org.access import (
    access_employee,
    login_required,
    people_reader_required,
    roles_of,
    visible_employees,
)
from learntrace.org.models import Employee
from learntrace.records.models import CourseProgress
from learntrace.tracking import services
from learntrace.tracking.intervals import contiguous_from_zero
from learntrace.tracking.models import FLAG_LABELS, Attempt, Beat, Coverage


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
                         **services.coverage_state(attempt.employee, course)})


@require_POST
@login_required
def beat(request):
    """Accepts form data (attempt, beat as JSON: what sendBeacon can send with the CSRF token)
    or a JSON body {"attempt": …, "beat": {…}} with the X-CSRFToken header."""
    try:
        if request.content_type == "application/json":
            body = json.loads(request.body or b"null")
            if not isinstance(body, dict):
                raise ValueError
            attempt_id, data = body.get("attempt"), body.get("beat")
        else:
            attempt_id, data = request.POST.get("attempt"), json.loads(request.POST.get("beat", "null"))
    except (ValueError, UnicodeDecodeError):
        return _error(_("The beat is not valid JSON."))
    employee_id = roles_of(request.user).employee_id
    try:
        attempt = Attempt.objects.select_related("course", "employee").get(pk=attempt_id, employee_id=employee_id)
    except (Attempt.DoesNotExist, ValidationError, ValueError, TypeError):
        return _error(_("No such viewing session of yours."), 404)
    try:
        beat_input = services.parse_beat(data, attempt.course)
        outcome = services.apply_beat(attempt=attempt, beat=beat_input)
    except services.BeatRejected as exc:
        return _error(exc.message, exc.status)
    return JsonResponse(outcome.as_dict())


@people_reader_required
def course_learners(request, course_id):
    course = access_course(request.user, course_id)
    people = visible_employees(request.user)
    coverages = Coverage.objects.filter(course=course, employee__in=people).select_related(
        "employee__department", "employee__user").order_by("employee__department__path", "employee__employee_no")
    page = Paginator(coverages, 50).get_page(request.GET.get("page"))
    employee_ids = [c.employee_id for c in page.object_list]
    sessions = {row["employee_id"]: row for row in Attempt.objects.filter(course=course, employee_id__in=employee_ids)
                .values("employee_id").annotate(count=Count("id"), first=Min("started_at"), last=Max("started_at"))}
    completed = dict(CourseProgress.objects.filter(course=course, employee_id__in=employee_ids)
                     .values_list("employee_id", "completed_at"))
    duration_ms = course.duration_seconds * 1000
    rows = [{
        "coverage": c, "sessions": sessions.get(c.employee_id, {}), "completed_at": completed.get(c.employee_id),
        "percent": min(100, c.covered_ms * 100 // duration_ms) if duration_ms else 0,
        "bar": _bar(c.intervals, duration_ms),
    } for c in page.object_list]
    return render(request, "tracking/course_learners.html", {"course": course, "page": page, "rows": rows})


@people_reader_required
def learner_detail(request, course_id, employee_id):
    course = access_course(request.user, course_id)
    employee = access_employee(request.user, employee_id)
    coverage = Coverage.objects.filter(course=course, employee=employee).first()
    attempts = list(Attempt.objects.filter(course=course, employee=employee).order_by("-started_at")[:100])
    flags = {}
    for attempt_id, beat_flags in Beat.objects.filter(attempt__in=attempts).filter(
            Q(cut_ms__gt=0) | Q(rate__gt=services.MAX_RATE)).values_list("attempt_id", "flags"):
        flags.setdefault(attempt_id, set()).update(beat_flags)
    for attempt in attempts:
        attempt.flag_labels = sorted(str(FLAG_LABELS.get(flag, flag)) for flag in flags.get(attempt.pk, ()))
    duration_ms = course.duration_seconds * 1000
    return render(request, "tracking/learner_detail.html", {
        "course": course, "person": employee, "coverage": coverage, "attempts": attempts,
        "bar": _bar(coverage.intervals if coverage else [], duration_ms),
        "furthest_ms": contiguous_from_zero([tuple(i) for i in coverage.intervals]) if coverage else 0,
        "progress": CourseProgress.objects.filter(course=course, employee=employee).first(),
    })


def _bar(intervals, duration_ms: int) -> list[tuple[float, float]]:
    """Watched intervals as (left %, width %) for a one-line picture."""
    if not duration_ms:
        return []
    return [(round(start * 100 / duration_ms, 2), round((end - start) * 100 / duration_ms, 2))
            for start, end in intervals]
