"""Report pages: the dashboard, the per-person list, course analytics, and exports (served at once
when small, written by the worker when large). Every page reads through `selectors` with the
reader's scope; department heads reach them too, limited to their subtrees."""

import tempfile
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from learntrace.catalog.models import Course, CourseKind
from learntrace.core.files import hand_over, open_served
from learntrace.core.spreadsheets import XLSX_TYPE, csv_lines, write_xlsx
from learntrace.org.access import people_reader_required
from learntrace.reports import charts, exports, selectors, services
from learntrace.reports.forms import RECENT, ReportFilterForm
from learntrace.reports.models import ExportJob
from learntrace.reports.selectors import Scope

# The range course analytics were last read over, kept for the reader's next visit.
COURSE_PERIOD_KEY = "reports_course_period"


def _filters(request, *, default_period: str = ""):
    """The filter form, the filters, and the query string that keeps them in links (exports, pages)."""
    form = ReportFilterForm(request.GET, user=request.user, default_period=default_period)
    if not form.is_valid():
        return form, None, ""
    return form, form.filters(), urlencode(form.query())


def _course_filters(request):
    """Course analytics open on the last 90 days (a month rarely holds enough viewing to mean
    anything), or on the range the reader chose last time."""
    found = _filters(request, default_period=request.session.get(COURSE_PERIOD_KEY, RECENT))
    form, filters, _query = found
    if filters is not None and request.session.get(COURSE_PERIOD_KEY) != form.data["period"]:
        request.session[COURSE_PERIOD_KEY] = form.data["period"]
    return found


def _invalid(request, form, template="reports/invalid.html"):
    return render(request, template, {"form": form}, status=400)


@people_reader_required
def dashboard(request):
    form, filters, query = _filters(request)
    if filters is None:
        return _invalid(request, form)
    scope = Scope.of(request.user)
    completion = selectors.FigureGroups.of(scope, filters)
    target = settings.REPORTS_COMPLETION_TARGET
    plans = selectors.by_plan(completion)
    departments = selectors.by_department(completion, selectors.department_focus(scope, filters))
    months = selectors.trend(scope, filters)
    histogram = selectors.hours_histogram(completion)
    found = selectors.anomalies(scope, shown=selectors.ANOMALIES_SHOWN)
    return render(request, "reports/dashboard.html", {
        "form": form, "query": query, "filters": filters, "target": target,
        "summary": selectors.summary(completion),
        "plans": plans, "plans_chart": charts.horizontal_bars([(r.label, r.percent) for r in plans], target=target),
        "departments": departments,
        "departments_chart": charts.horizontal_bars([(r.label, r.percent) for r in departments], target=target),
        "months": months,
        "months_chart": charts.line([r.percent for r in months], [r.label for r in months], target=target),
        "histogram": histogram,
        "histogram_chart": charts.columns([(b.label, b.people) for b in histogram]),
        "non_completers": selectors.first_non_completers(selectors.standings(scope, filters, with_month=False),
                                                          selectors.report_periods(filters)),
        "meetings": selectors.meetings_this_week(scope),
        "anomalies": found, "anomaly_count": selectors.anomaly_count(found),
        "anomalies_shown": selectors.ANOMALIES_SHOWN,
    })


@people_reader_required
def people(request):
    form, filters, query = _filters(request)
    if filters is None:
        return _invalid(request, form)
    rows = selectors.standings(Scope.of(request.user), filters).select_related(
        "employee", "department", "plan", "period__plan")
    keys = {name: request.GET.get(name) for name in ("after", "before") if request.GET.get(name)}
    read = {name: selectors.read_people_key(key) for name, key in keys.items()}
    if None in read.values():
        messages.error(request, _("That page link is not valid any more: here is the first page."))
        read = {}
    page = selectors.people_page(rows, **read)
    return render(request, "reports/people.html", {"form": form, "query": query, "page": page})


@people_reader_required
def courses(request):
    form, filters, query = _course_filters(request)
    if filters is None:
        return _invalid(request, form)
    figures = selectors.course_analytics(Scope.of(request.user), filters)
    return render(request, "reports/courses.html", {
        "form": form, "query": query, "courses": figures, "threshold": settings.REPORTS_LOW_WATCH_SHARE,
    })


@people_reader_required
def course(request, course_id):
    form, filters, query = _course_filters(request)
    if filters is None:
        return _invalid(request, form)
    filters.course = get_object_or_404(Course, pk=course_id, kind__in=selectors.TRACKED_KINDS)
    scope = Scope.of(request.user)
    figures = next(iter(selectors.course_analytics(scope, filters)), None)
    curve = None
    if filters.course.kind == CourseKind.VIDEO:
        curve = selectors.retention_curve(selectors.course_progress(scope, filters), filters.course.duration_seconds)
    course_query = urlencode({**form.query(), "course": filters.course.pk})
    return render(request, "reports/course.html", {
        "form": form, "query": course_query, "course": filters.course, "figures": figures, "curve": curve,
        "threshold": settings.REPORTS_LOW_WATCH_SHARE,
        "curve_chart": charts.line(curve.shares, [f"{p}%" for p in range(len(curve.shares))],
                                   target=None) if curve else None,
        "curve_table": list(enumerate(curve.shares)) if curve else [],
    })


# ---------------------------------------------------------------- exports


@people_reader_required
def export(request, report, file_format):
    chosen = exports.REPORTS.get(report)
    if chosen is None or file_format not in exports.FORMATS:
        raise Http404
    form, filters, _unused = _filters(request)
    if filters is None:
        return _invalid(request, form)
    if chosen.needs_course and filters.course is None:
        return HttpResponseBadRequest(_("Choose a course for this export."))
    scope = Scope.of(request.user)
    total = chosen.count(scope, filters)
    if total > settings.REPORTS_DIRECT_EXPORT_ROWS:
        job = services.request_export(
            user=request.user, report=report, file_format=file_format,
            query=form.query(),
            language=get_language(), total_rows=total)
        return redirect("reports:export_job", job_id=job.pk)
    name = services.file_name(chosen, file_format)
    headers, rows = chosen.headers(), chosen.rows(scope, filters)
    if file_format == "csv":
        language = get_language()

        def lines():
            # The rows are read while the response streams, after the view has returned.
            with translation.override(language):
                yield from csv_lines(headers, rows)

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    else:
        handle = tempfile.TemporaryFile(suffix=".xlsx")  # sent by this request, never read by another node
        write_xlsx(handle, headers, rows, sheet_name=str(chosen.title))
        handle.seek(0)
        response = FileResponse(handle, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _my_job(request, job_id) -> ExportJob:
    """Only the person who asked for an export may see it: anyone else gets "not found"."""
    job = ExportJob.objects.filter(pk=job_id, requested_by=request.user).first()
    if job is None:
        raise Http404
    return job


@people_reader_required
def export_jobs(request):
    jobs = list(ExportJob.objects.filter(requested_by=request.user)[:50])
    for job in jobs:
        job.title = exports.REPORTS[job.report].title if job.report in exports.REPORTS else job.report
    return render(request, "reports/export_jobs.html", {"jobs": jobs})


@people_reader_required
def export_job(request, job_id):
    job = _my_job(request, job_id)
    return render(request, "reports/export_job.html", {"job": job, "report": exports.REPORTS.get(job.report)})


@people_reader_required
def export_job_state(request, job_id):
    job = _my_job(request, job_id)
    return JsonResponse({
        "status": job.status, "status_text": str(job.get_status_display()), "done_rows": job.done_rows,
        "total_rows": job.total_rows, "percent": job.progress_percent,
        "download_url": reverse("reports:export_download", args=[job.pk]) if job.status == job.Status.DONE else "",
    })


@people_reader_required
def export_download(request, job_id):
    job = _my_job(request, job_id)
    if job.status != ExportJob.Status.DONE or not job.stored_path:
        raise Http404
    missing = _("This export's file is no longer on this server: it may have expired. Please export again.")
    handed = hand_over(job.stored_path, missing=missing, filename=job.file_name)
    if isinstance(handed, HttpResponse):
        return handed
    handle = open_served(handed, missing=missing)
    response = FileResponse(handle, as_attachment=True, filename=job.file_name,
                            content_type=XLSX_TYPE if job.file_format == "xlsx" else "text/csv; charset=utf-8")
    return response
