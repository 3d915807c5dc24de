"""Certificates: what earns one (an exam passed, a plan period completed), for how long it is
valid, and the certificates issued. An issued `Certificate` is a fact: written once, sealed in
the evidence like the learning facts, and verifiable by anyone holding its link."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.exams.models import Exam, ExamResult
from learntrace.notify.models import Channel
from learntrace.org.models import Employee
from learntrace.plans.models import Assignment, LearningPlan


class CertificateKind(models.Model):
    title = models.CharField(_("title on the certificate"), max_length=200)
    exam = models.ForeignKey(Exam, verbose_name=_("exam"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", help_text=_("Passing this exam earns the certificate."))
    plan = models.ForeignKey(LearningPlan, verbose_name=_("plan"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", help_text=_("Completing a period of this plan earns the certificate."))
    valid_months = models.PositiveSmallIntegerField(
        _("valid for (months)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Recertification every 1 to 3 years is 12 to 36; empty: it does not expire."))
    remind_days_before = models.JSONField(_("remind days before expiry"), default=list, blank=True)  # [60, 30, 7]
    remind_heads = models.BooleanField(_("remind the department heads too"), default=True)
    channels = models.ManyToManyField(Channel, verbose_name=_("channels"), blank=True, related_name="+")
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Inactive kinds issue no new certificates; issued ones stay valid."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("certificate kind")
        verbose_name_plural = _("certificate kinds")
        constraints = [models.CheckConstraint(
            condition=models.Q(exam__isnull=False, plan__isnull=True) | models.Q(exam__isnull=True, plan__isnull=False),
            name="certificate_kind_exam_or_plan")]

    def __str__(self):
        return self.title


class Certificate(models.Model):
    kind = models.ForeignKey(CertificateKind, on_delete=models.PROTECT, related_name="certificates")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="certificates")
    # Unguessable: the verification link names the certificate by it, and anyone may open that link.
    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)  # copied from the kind: renaming it does not rewrite history
    exam_result = models.ForeignKey(ExamResult, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="certificates")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "exam_result"], name="one_certificate_per_result"),
            models.UniqueConstraint(fields=["kind", "assignment"], name="one_certificate_per_assignment"),
        ]
        indexes = [
            models.Index(fields=["expires_at"]),
            models.Index(fields=["employee", "issued_at"]),
        ]

    def __str__(self):
        return f"{self.title}: {self.employee} ({self.code})"


class Revocation(models.Model):
    """A certificate withdrawn by an HR admin, with the reason: a new sealed fact that points at the
    certificate (like a correction voids a completion); the certificate itself is never edited."""

    certificate = models.OneToOneField(Certificate, on_delete=models.PROTECT, related_name="revocation")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+")  # the holder, for bundles
    reason = models.CharField(_("reason"), max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.certificate}: {self.reason[:40]}"
