"""Credits earned elsewhere, declared by the person with a certificate scan and approved in two
steps: their department head, then the education office (a training admin). Approval makes the
fact (`records.OutsideCredit`) that counts; the declaration keeps the scan and the steps."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, CreditClass
from learntrace.org.models import Employee
from learntrace.records.models import OutsideCredit

# The certificate types accepted, recognised by their first bytes (never by the file's name).
CERTIFICATE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}


def certificate_path(declaration, filename: str) -> str:
    """A name of our own: the uploaded name is neither trusted nor kept on disk."""
    return f"declarations/{uuid.uuid4().hex}{CERTIFICATE_TYPES.get(declaration.certificate_type, '')}"


class Declaration(models.Model):
    class Status(models.TextChoices):
        AWAITING_HEAD = "awaiting_head", _("Waiting for the department head")
        AWAITING_OFFICE = "awaiting_office", _("Waiting for the education office")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned for changes")

    employee = models.ForeignKey(Employee, verbose_name=_("person"), on_delete=models.PROTECT,
                                 related_name="declarations")
    kind = models.CharField(_("kind"), max_length=16, choices=OutsideCredit.Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    organiser = models.CharField(_("organiser"), max_length=200, blank=True)
    project_number = models.CharField(_("project number"), max_length=100, blank=True)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("to"))
    credits = models.DecimalField(_("credits"), max_digits=6, decimal_places=2,
                                  validators=[MinValueValidator(0)])
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1, default=0,
                                validators=[MinValueValidator(0)])
    credit_class = models.ForeignKey(CreditClass, verbose_name=_("credit class"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    certificate = models.FileField(_("certificate"), upload_to=certificate_path, max_length=200)
    certificate_type = models.CharField(max_length=32)
    certificate_sha256 = models.CharField(max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    return_reason = models.TextField(_("reason"), blank=True)
    head_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    head_approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    fact = models.OneToOneField(OutsideCredit, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="declaration")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")  # the education office's bulk entry
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["status", "submitted_at"])]
        verbose_name = _("declaration")
        verbose_name_plural = _("declarations")
        constraints = [models.CheckConstraint(condition=models.Q(ended_on__gte=models.F("started_on")),
                                              name="declaration_ends_after_start")]

    def __str__(self):
        return f"{self.employee}: {self.title}"

    @property
    def editable(self) -> bool:
        return self.status == self.Status.RETURNED

    @property
    def is_image(self) -> bool:
        return self.certificate_type.startswith("image/")


class DeclarationStep(models.Model):
    """One step of a declaration's way: submitted, approved by the head or the office, returned."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RESUBMITTED = "resubmitted", _("Corrected and submitted again")
        HEAD_APPROVED = "head_approved", _("Approved by the department head")
        APPROVED = "approved", _("Approved by the education office")
        RETURNED = "returned", _("Returned for changes")
        ENTERED = "entered", _("Entered by the education office")

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.declaration_id} {self.kind}"
