"""The auditor's evidence page: seals, the last verifications, the archives of old beats; and the public
key, for anyone."""

from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from learntrace.core.files import FileMissing, hand_over, open_served
from learntrace.evidence import keys, services, tasks
from learntrace.evidence.models import Seal, Verification
from learntrace.org.access import reader_required


@reader_required
def overview(request):
    last_seal = Seal.objects.order_by("-number").first()
    unsealed = services.unsealed_count()
    sealed = sum(Seal.objects.values_list("fact_count", flat=True))
    try:
        key_id, key_problem = keys.key_id(keys.public_key()), ""
    except keys.SigningKeyUnavailable:
        key_id, key_problem = "", keys.missing_key_message()
    return render(request, "evidence/overview.html", {
        "last_seal": last_seal, "seal_count": Seal.objects.count(), "sealed": sealed, "unsealed": unsealed,
        "verifications": Verification.objects.all()[:10], "key_id": key_id, "key_problem": key_problem,
        "archives": Seal.objects.filter(archive__isnull=False).order_by("-number").defer("leaves", "kept"),
    })


@require_POST
@reader_required
def verify(request):
    tasks.verify_now()
    messages.info(request, _("Verification has started; its result appears below when it is done."))
    return redirect("evidence:overview")


@require_safe
def public_key(request):
    """Public, without a login: auditors fetch it to verify bundles, and it holds no secret."""
    try:
        pem = keys.public_pem()
    except keys.SigningKeyUnavailable as exc:
        raise FileMissing(keys.missing_key_message()) from exc
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="learntrace-evidence-public-key.pem"'
    return response


@require_safe
@reader_required
def archive_file(request, number):
    """An archive's file from the shared storage, for the auditor to verify offline."""
    link = get_object_or_404(Seal.objects.defer("leaves", "kept"), number=number, archive__isnull=False)
    name = link.archive_file
    # Only a file an archive stored: written by the command to a file of the operator's, or a name that is
    # not under archives/ (the column is not signed), gives nothing.
    if not name.startswith("archives/") or ".." in Path(name).parts or Path(name).is_absolute():
        raise Http404
    missing = _("This archive's file is no longer in the shared storage: ask the operator for their copy.")
    filename = Path(name).name
    handed = hand_over(name, missing=missing, filename=filename)
    if isinstance(handed, HttpResponse):
        return handed
    return FileResponse(open_served(handed, missing=missing), as_attachment=True, filename=filename,
                        content_type="application/gzip")
