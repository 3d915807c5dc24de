"""Pages of the organisation: departments, employees, roles and imports."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.core.paging import page_of
from learntrace.org import services, tasks
from learntrace.org.access import (
    access_department,
    access_employee,
    admin_required,
    login_required,
    people_reader_required,
    roles_of,
    visible_departments,
    visible_employees,
)
from learntrace.org.forms import (
    DepartmentForm,
    EmployeeFilterForm,
    EmployeeForm,
    ImportUploadForm,
    RoleGrantForm,
)
from learntrace.org.importing import changed_rows_shown, template_csv, template_xlsx
from learntrace.org.models import Department, Employee, ImportBatch, RoleGrant
from learntrace.org.uploads import store_upload


@people_reader_required
def department_list(request):
    departments = visible_departments(request.user).annotate(
        active_employees=Count("employees", filter=Q(employees__is_active=True))
    ).order_by("path")
    return render(request, "org/department_list.html", {"departments": departments})


@admin_required
def department_edit(request, department_id=None):
    department = access_department(request.user, department_id, write=True) if department_id else Department()
    form = DepartmentForm(request.POST or None, instance=department)
    if request.method == "POST" and form.is_valid():
        try:
            services.department_save(actor=request.user, department=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Department saved."))
            return redirect("org:departments")
    return render(request, "org/department_form.html", {"form": form, "department": department})


@people_reader_required
def employee_list(request):
    departments = visible_departments(request.user)
    form = EmployeeFilterForm(request.GET or None, departments=departments)
    employees = visible_employees(request.user)
    status = "active"
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            employees = employees.filter(Q(name__icontains=data["q"]) | Q(employee_no__icontains=data["q"])
                                         | Q(position__icontains=data["q"]))
        if data["department"]:
            employees = employees.filter(department__path__startswith=data["department"].path)
        if data["level"]:
            employees = employees.filter(level=data["level"])
        status = data["status"] or "active"
    if status != "all":
        employees = employees.filter(is_active=(status == "active"))
    page, query = page_of(request, employees.order_by("department__path", "employee_no"))
    return render(request, "org/employee_list.html", {"form": form, "page": page, "query": query})


@login_required
def my_profile(request):
    employee_id = roles_of(request.user).employee_id
    if employee_id is None:
        raise Http404
    return _employee_page(request, employee_id)


@login_required
def employee_detail(request, employee_id):
    return _employee_page(request, employee_id)


def _employee_page(request, employee_id):
    employee = access_employee(request.user, employee_id)
    grants = RoleGrant.objects.filter(user_id=employee.user_id).select_related("department") \
        if employee.user_id else RoleGrant.objects.none()
    context = {"employee": employee, "grants": grants}
    if roles_of(request.user).can_read_all:
        # Sign-in facts for admins and auditors: the outside accounts linked, the last activation sent.
        context["identities"] = list(employee.identities.all())
        context["activation"] = employee.sign_in_links.filter(purpose="activation", sent_at__isnull=False) \
            .order_by("-sent_at").first()
    return render(request, "org/employee_detail.html", context)


@admin_required
def employee_edit(request, employee_id=None):
    employee = access_employee(request.user, employee_id, write=True) if employee_id else Employee()
    form = EmployeeForm(request.POST or None, instance=employee)
    if request.method == "POST" and form.is_valid():
        saved = services.employee_save(actor=request.user, employee=form.save(commit=False))
        messages.success(request, _("Employee saved."))
        return redirect("org:employee", employee_id=saved.pk)
    return render(request, "org/employee_form.html", {"form": form, "employee": employee})


@admin_required
def employee_password(request, employee_id):
    employee = access_employee(request.user, employee_id, write=True)
    if employee.user_id is None:
        raise Http404
    form = SetPasswordForm(employee.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.employee_set_password(actor=request.user, employee=employee,
                                       password=form.cleaned_data["new_password1"])
        messages.success(request, _("The new password is set; give it to the employee in person."))
        return redirect("org:employee", employee_id=employee.pk)
    return render(request, "org/employee_password.html", {"form": form, "employee": employee})


@admin_required
def employee_roles(request, employee_id):
    employee = access_employee(request.user, employee_id, write=True)
    if employee.user_id is None:
        raise Http404
    form = RoleGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.role_grant(actor=request.user, user=employee.user, role=form.cleaned_data["role"],
                            department=form.cleaned_data["department"])
        messages.success(request, _("Role given."))
        return redirect("org:employee_roles", employee_id=employee.pk)
    grants = RoleGrant.objects.filter(user_id=employee.user_id).select_related("department")
    return render(request, "org/employee_roles.html", {"form": form, "employee": employee, "grants": grants})


@require_POST
@admin_required
def employee_role_revoke(request, employee_id, grant_id):
    employee = access_employee(request.user, employee_id, write=True)
    grant = get_object_or_404(RoleGrant, pk=grant_id, user_id=employee.user_id)
    if grant.user_id == request.user.id and grant.role == "training_admin":
        messages.error(request, _("You cannot take away your own training admin role."))
    else:
        services.role_revoke(actor=request.user, grant=grant)
        messages.success(request, _("Role taken away."))
    return redirect("org:employee_roles", employee_id=employee.pk)


@admin_required
def import_upload(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        stored_path, sha256 = store_upload(upload)
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                file_name=Path(upload.name).name[:255], stored_path=str(stored_path), sha256=sha256,
                deactivate_missing=form.cleaned_data["deactivate_missing"], created_by=request.user,
                language=request.LANGUAGE_CODE,
            )
            transaction.on_commit(lambda: tasks.validate_import(batch.pk))
        return redirect("org:import_batch", batch_id=batch.pk)
    batches = ImportBatch.objects.select_related("created_by")[:20]
    # The directory sync's button (directory app) is offered when a directory is configured.
    source = settings.DIRECTORY_SYNC_SOURCE
    directory = ImportBatch.Source(source).label if source in ImportBatch.Source.values and \
        source != ImportBatch.Source.FILE else None
    return render(request, "org/import_upload.html", {"form": form, "batches": batches, "directory": directory})


def _batch_context(batch):
    # The batch row holds the check's count until the import commits; the import's own is in the cache.
    stored = 0 if batch.status in {ImportBatch.Status.QUEUED, ImportBatch.Status.APPLYING} else batch.processed_rows
    done, total = cache.get(tasks.progress_key(batch.pk), (stored, batch.total_rows))
    percent = round(100 * done / total) if total else 0
    return {"batch": batch, "done": done, "total": total, "percent": min(percent, 100),
            "changed_rows": changed_rows_shown(batch.changed_rows)}


@admin_required
def import_batch(request, batch_id):
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    template = "org/_import_status.html" if request.GET.get("fragment") else "org/import_batch.html"
    return render(request, template, _batch_context(batch))


@require_POST
@admin_required
def import_confirm(request, batch_id):
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    if tasks.confirm_import(batch_id=batch.pk, actor=request.user):
        messages.info(request, _("The import has started."))
    elif batch.status in {ImportBatch.Status.QUEUED, ImportBatch.Status.APPLYING, ImportBatch.Status.APPLIED}:
        messages.info(request, _("This file is already being imported, or was imported; it is imported only once."))
    else:
        messages.error(request, _("Only a checked file without errors can be imported."))
    return redirect("org:import_batch", batch_id=batch.pk)


@admin_required
def import_template(request, file_format):
    if file_format == "xlsx":
        response = HttpResponse(
            template_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="learntrace-organisation-template.{file_format}"'
    return response
