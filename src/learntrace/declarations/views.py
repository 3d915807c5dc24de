"""Pages of credits earned elsewhere: declaring and correcting (the person), deciding (the
department head, then the education office), the certificate (everyone who may read the
declaration, auditors too), and the office's entry for a whole meeting."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learntrace.core.feedback import show_errors
from learntrace.core.files import attachment, hand_over, open_served
from learntrace.declarations import services
from learntrace.declarations.access import access_declaration, awaiting, may_decide, visible_declarations
from learntrace.declarations.forms import BulkEntryForm, DeclarationForm, ReturnForm
from learntrace.declarations.models import Declaration
from learntrace.org.access import admin_required, login_required, roles_of
from learntrace.org.models import Employee
from learntrace.records.models import OutsideCredit


@login_required
def mine(request):
    employee_id = roles_of(request.user).employee_id
    if employee_id is None:
        raise Http404
    employee = get_object_or_404(Employee.objects.select_related("department", "user"), pk=employee_id)
    form = DeclarationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            declaration = services.declare(employee=employee, data=form.cleaned_data,
                                           certificate=form.cleaned_data["certificate"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Declaration submitted."))
            return redirect("declarations:detail", declaration_id=declaration.pk)
    return render(request, "declarations/mine.html", {
        "form": form, "declarations": Declaration.objects.filter(employee_id=employee_id)
        .select_related("credit_class", "category")})


@login_required
def edit(request, declaration_id):
    declaration = access_declaration(request.user, declaration_id)
    if declaration.employee_id != roles_of(request.user).employee_id or not declaration.editable:
        raise Http404
    form = DeclarationForm(request.POST or None, request.FILES or None, instance=declaration, correcting=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.resubmit(user=request.user, declaration=declaration, data=form.cleaned_data,
                              certificate=form.cleaned_data.get("certificate") or None)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Declaration submitted again."))
            return redirect("declarations:detail", declaration_id=declaration.pk)
    return render(request, "declarations/edit.html", {"form": form, "declaration": declaration})


@login_required
def detail(request, declaration_id):
    declaration = access_declaration(request.user, declaration_id)
    roles = roles_of(request.user)
    return render(request, "declarations/detail.html", {
        "declaration": declaration, "steps": declaration.steps.select_related("actor__employee"),
        "may_decide": may_decide(roles, declaration), "own": declaration.employee_id == roles.employee_id,
        "return_form": ReturnForm()})


@login_required
def certificate(request, declaration_id):
    declaration = access_declaration(request.user, declaration_id)
    # Images show on the page; a PDF is downloaded.
    filename = "" if declaration.is_image else f"certificate-{declaration.pk}.pdf"
    missing = _("The certificate of this declaration is missing on this server. Please tell the training admin.")
    handed = hand_over(declaration.certificate.name, missing=missing, filename=filename,
                       content_type=declaration.certificate_type)
    if isinstance(handed, HttpResponse):
        return handed
    response = FileResponse(open_served(handed, missing=missing), content_type=declaration.certificate_type)
    if filename:
        response["Content-Disposition"] = attachment(filename)
    return response


@login_required
def fact(request, fact_id):
    """From an approved credit (a fact) to the declaration it came from."""
    declaration = visible_declarations(request.user).filter(fact_id=fact_id).first()
    if declaration is None or not OutsideCredit.objects.filter(pk=fact_id).exists():
        raise Http404
    return redirect("declarations:detail", declaration_id=declaration.pk)


@require_POST
@login_required
def decide(request, declaration_id, decision):
    declaration = access_declaration(request.user, declaration_id)
    try:
        if decision == "approve":
            services.approve(user=request.user, declaration=declaration)
            messages.success(request, _("Approved."))
        else:
            form = ReturnForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Say why the declaration is returned."))
            services.return_for_changes(user=request.user, declaration=declaration,
                                        reason=form.cleaned_data["reason"])
            messages.success(request, _("Returned for changes."))
    except PermissionDenied:
        messages.error(request, _("This step is not yours to take."))
    except ValidationError as exc:
        show_errors(request, exc)
    return redirect("declarations:detail", declaration_id=declaration.pk)


@login_required
def review(request):
    roles = roles_of(request.user)
    if not (roles.is_head or roles.can_read_all):
        raise PermissionDenied
    recent = visible_declarations(request.user).exclude(
        status__in=[Declaration.Status.AWAITING_HEAD, Declaration.Status.AWAITING_OFFICE])[:50]
    return render(request, "declarations/review.html", {"waiting": awaiting(request.user), "recent": recent})


@admin_required
def bulk(request):
    form = BulkEntryForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            people = services.parse_people(form.cleaned_data["attendees"])
            declarations = services.enter_for_attendees(user=request.user, people=people, data=form.cleaned_data,
                                                        certificate=form.cleaned_data["certificate"])
        except ValidationError as exc:
            form.add_error("attendees", exc)
        else:
            messages.success(request, _("Credits recorded for %(count)d people.") % {"count": len(declarations)})
            return redirect("declarations:review")
    return render(request, "declarations/bulk.html", {"form": form})
