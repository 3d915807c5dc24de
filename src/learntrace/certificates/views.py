"""Certificates: a person's own, one certificate (page and PDF), the public verification page,
and the admin's list of issued certificates and of the kinds that issue them."""

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from learntrace.certificates import services
from learntrace.certificates.forms import CertificateKindForm, RevokeForm
from learntrace.certificates.models import Certificate, CertificateKind
from learntrace.core.audit import save_with_audit
from learntrace.core.paging import page_of
from learntrace.evidence import services as evidence
from learntrace.notify.messages import absolute
from learntrace.org.access import admin_required, login_required, reader_required, roles_of, visible_employees

SOURCE = services.EVIDENCE_SOURCE


def _readable(user, certificate_id) -> Certificate:
    certificate = Certificate.objects.select_related("employee__department", "kind", "revocation").filter(
        pk=certificate_id).first()
    if certificate is None or not visible_employees(user).filter(pk=certificate.employee_id).exists():
        raise Http404
    return certificate


def _verify_url(certificate) -> str:
    return absolute(reverse("certificates:verify", args=[certificate.code]))


def _seal_line(seal) -> str:
    if seal is None:
        return _("Not yet sealed: the evidence seals new facts within minutes.")
    return _("Anchored to evidence seal %(number)d of %(date)s.") % {
        "number": seal.number, "date": timezone.localtime(seal.created_at).strftime("%Y-%m-%d")}


@login_required
def mine(request):
    employee_id = roles_of(request.user).employee_id
    if employee_id is None:
        raise Http404
    now = timezone.now()
    certificates = list(Certificate.objects.filter(employee_id=employee_id).select_related("revocation"))
    for certificate in certificates:
        certificate.status = services.status(certificate, now)
    return render(request, "certificates/mine.html", {"certificates": certificates})


@login_required
def certificate(request, certificate_id):
    certificate = _readable(request.user, certificate_id)
    return render(request, "certificates/detail.html", {
        "certificate": certificate, "status": services.status(certificate), "verify_url": _verify_url(certificate),
        "seal_line": _seal_line(evidence.seal_of(SOURCE, certificate.pk)),
        "revocation": services.revocation_of(certificate), "may_revoke": roles_of(request.user).is_admin,
    })


@admin_required
def revoke(request, certificate_id):
    """Training (HR) admins withdraw a certificate with a reason, after a page that asks them to confirm."""
    certificate = _readable(request.user, certificate_id)
    if services.revocation_of(certificate) is not None:
        messages.info(request, _("This certificate is already revoked."))
        return redirect("certificates:certificate", certificate_id=certificate.pk)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.revoke(actor=request.user, certificate=certificate, reason=form.cleaned_data["reason"])
        except services.AlreadyRevoked:
            messages.info(request, _("This certificate is already revoked."))
        else:
            messages.success(request, _("Certificate revoked."))
        return redirect("certificates:certificate", certificate_id=certificate.pk)
    return render(request, "certificates/revoke.html", {"certificate": certificate, "form": form})


@login_required
def certificate_download(request, certificate_id):
    certificate = _readable(request.user, certificate_id)
    if services.revocation_of(certificate) is not None:
        # A fresh print would look valid on paper; its page and the public check say why it is not.
        messages.error(request, _("A revoked certificate is no longer printed."))
        return redirect("certificates:certificate", certificate_id=certificate.pk)
    from learntrace.certificates.pdf import certificate_pdf  # here: reportlab only in processes that print

    seal_line = _seal_line(evidence.seal_of(SOURCE, certificate.pk))
    pdf = certificate_pdf(certificate, verify_url=_verify_url(certificate), seal_line=seal_line,
                          language=translation.get_language() or "zh-hans")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    return response


def verify(request, code):
    """Public: anyone with the link (or the QR code on the PDF) sees whether the certificate is valid."""
    certificate = Certificate.objects.select_related("employee__department", "revocation").filter(
        code=code).first()
    if certificate is None:
        return render(request, "certificates/verify.html", {"certificate": None}, status=404)
    seal = evidence.seal_of(SOURCE, certificate.pk)
    sealed_ok = evidence.verify_fact(SOURCE, certificate.pk) if seal is not None else None
    return render(request, "certificates/verify.html", {
        "certificate": certificate, "status": services.status(certificate), "sealed_ok": sealed_ok,
        "seal_line": _seal_line(seal), "revocation": services.revocation_of(certificate),
    })


@reader_required
def certificate_list(request):
    certificates = Certificate.objects.select_related("employee__department", "kind", "revocation")
    show = request.GET.get("show", "")
    now = timezone.now()
    if show == "expiring":
        # A revoked certificate is not coming up for renewal.
        certificates = certificates.filter(expires_at__gt=now, expires_at__lte=now + dt.timedelta(days=90),
                                           revocation__isnull=True)
    elif show == "expired":
        certificates = certificates.filter(expires_at__lte=now)
    page, query = page_of(request, certificates)
    for row in page:
        row.status = services.status(row, now)
    return render(request, "certificates/list.html", {
        "page": page, "query": query, "show": show, "kinds": CertificateKind.objects.select_related("exam", "plan")})


@admin_required
def kind_edit(request, kind_id=None):
    kind = get_object_or_404(CertificateKind, pk=kind_id) if kind_id else CertificateKind()
    form = CertificateKindForm(request.POST or None, instance=kind)
    if request.method == "POST" and form.is_valid():
        save_with_audit(actor=request.user, form=form, summary=lambda kind: kind.title)
        messages.success(request, _("Saved."))
        return redirect("certificates:list")
    return render(request, "certificates/kind_form.html", {"form": form, "kind": kind})
