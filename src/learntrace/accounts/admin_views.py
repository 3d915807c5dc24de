"""Pages of the training admin about signing in: sending activation links and their results, the
sign-in log (admins and auditors), unlinking an outside account from an employee."""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.accounts import links, services, signin
from learntrace.accounts.forms import SendLinksForm, SignInLogFilterForm
from learntrace.accounts.models import LinkBatch, LinkDispatch, LinkedIdentity, SignInEvent
from learntrace.core.paging import page_of
from learntrace.org.access import access_employee, admin_required, reader_required, visible_employees


def _selection(request, data):
    """The people chosen on the employee list or page: explicit ids, or everyone without a usable login."""
    employees = visible_employees(request.user)
    if data.get("all") == "1":
        return links.without_usable_login(employees), True
    ids = [value for value in data.getlist("employee") if value.isdigit()]
    return employees.filter(pk__in=ids), False


@admin_required
def send_links(request):
    data = request.POST if request.method == "POST" else request.GET
    selection, everyone = _selection(request, data)
    people = list(selection.select_related("user", "department").order_by("employee_no"))
    ready = [employee for employee in people if not links.has_usable_login(employee) and employee.is_active]
    channels = links.personal_channels()
    form = SendLinksForm(request.POST if request.method == "POST" else None, channels=channels)
    if request.method == "POST" and form.is_valid():
        if not ready:
            form.add_error(None, _("Nobody chosen is without a usable login."))
        else:
            batch = links.create_batch(actor=request.user, employee_ids=[employee.pk for employee in ready],
                                       channels=form.ordered_channels())
            return redirect("accounts:link_batch", batch_id=batch.pk)
    return render(request, "accounts/send_links.html", {
        "form": form, "people": people[:50], "count": len(people), "ready_count": len(ready),
        "everyone": everyone, "ids": [employee.pk for employee in people], "has_channels": channels.exists()})


@admin_required
def link_batch(request, batch_id):
    batch = get_object_or_404(LinkBatch.objects.select_related("created_by"), pk=batch_id)
    problems = batch.dispatches.exclude(outcome__in=[LinkDispatch.Outcome.SENT, LinkDispatch.Outcome.QUEUED]) \
        .select_related("employee").order_by("outcome", "employee__employee_no")
    page = Paginator(problems, 100).get_page(request.GET.get("page"))
    template = "accounts/_link_batch_status.html" if request.GET.get("fragment") else "accounts/link_batch.html"
    return render(request, template, {"batch": batch, "counts": links.batch_counts(batch), "page": page})


@reader_required
def signin_log(request):
    form = SignInLogFilterForm(request.GET or None)
    events = SignInEvent.objects.select_related("employee")
    if form.is_valid():
        data = form.cleaned_data
        if data["method"]:
            events = events.filter(method=data["method"])
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
        zone = timezone.get_current_timezone()
        if data["date_from"]:
            events = events.filter(at__gte=dt.datetime.combine(data["date_from"], dt.time.min, zone))
        if data["date_to"]:
            events = events.filter(at__lt=dt.datetime.combine(data["date_to"] + dt.timedelta(days=1), dt.time.min,
                                                               zone))
    page, query = page_of(request, events)
    for event in page:
        event.reason_text = signin.REASONS.get(event.reason, "")
    return render(request, "accounts/signin_log.html", {"form": form, "page": page, "query": query})


@require_POST
@admin_required
def unlink_identity(request, identity_id):
    identity = get_object_or_404(LinkedIdentity.objects.select_related("employee"), pk=identity_id)
    access_employee(request.user, identity.employee_id, write=True)
    services.unlink_identity(actor=request.user, identity=identity)
    messages.success(request, _("The account is unlinked; its next sign-in is matched afresh."))
    return redirect("org:employee", employee_id=identity.employee_id)
