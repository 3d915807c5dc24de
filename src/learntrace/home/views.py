"""The start page, the system status page, the audit trail and the answer to an unexpected error."""

import sys

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_POST, require_safe

from learntrace.core import tasks, unavailable
from learntrace.core.languages import chosen_language
from learntrace.core.models import AuditEntry, WorkerHeartbeat
from learntrace.home import audit_labels
from learntrace.org.access import admin_required, login_required, reader_required, roles_of
from learntrace.org.models import Department, Employee


@login_required
def home(request):
    roles = roles_of(request.user)
    employee = Employee.objects.select_related("department").filter(pk=roles.employee_id).first()
    context = {"employee": employee}
    if roles.can_read_all:
        context["counts"] = {
            "employees": Employee.objects.filter(is_active=True).count(),
            "departments": Department.objects.filter(is_active=True).count(),
        }
    return render(request, "home/home.html", context)


@admin_required
def system(request):
    heartbeat = WorkerHeartbeat.objects.filter(name="worker").first()
    worker_ok = heartbeat is not None and timezone.now() - heartbeat.last_seen < settings.WORKER_HEARTBEAT_STALE
    return render(request, "home/system.html", {
        "heartbeat": heartbeat,
        "worker_ok": worker_ok,
        "database": connection.vendor,
        "task_storage": settings.HUEY["huey_class"].rsplit(".", 1)[-1],
    })


@require_POST
@admin_required
def ping_worker(request):
    tasks.worker_ping()
    messages.info(request, _("A test task was queued; reload this page in a few seconds."))
    return redirect("home:system")


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: answer with the icon, not a 404 in the log."""
    return redirect(static("learntrace/favicon.svg"), permanent=True)


@require_safe  # read only: a POST here is refused rather than answered with the page
@reader_required
def audit_trail(request):
    page = Paginator(AuditEntry.objects.select_related("actor"), 50).get_page(request.GET.get("page"))
    return render(request, "home/audit.html", {"page": page, "rows": [audit_labels.describe(e) for e in page]})


def server_error(request):
    """Django's answer to an uncaught exception; a database outage is a 503 that says so."""
    if not unavailable.is_database_unavailable(sys.exc_info()[1]):
        return defaults.server_error(request)
    if request.path_info.startswith("/api/"):
        language = (translation.get_language_from_request(request) if "Accept-Language" in request.headers
                    else chosen_language(request))
        with translation.override(language):
            return unavailable.api_unavailable_response()
    with translation.override(chosen_language(request)):
        return unavailable.page_unavailable_response()
