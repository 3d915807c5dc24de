"""Who signed in, how, and which outside identities stand for which employee."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Method(models.TextChoices):
    """Every way into learntrace. A method is offered only when switched on (see `methods.py`)."""

    PASSWORD = "password", _("Password")
    ACTIVATION = "activation", _("Activation link")
    RESET = "reset", _("Password reset link")
    LDAP = "ldap", _("LDAP / Active Directory")
    OIDC = "oidc", _("OpenID Connect")
    CAS = "cas", _("CAS")
    DINGTALK = "dingtalk", _("DingTalk")
    WECOM = "wecom", _("WeCom")
    FEISHU = "feishu", _("Feishu")


class SignInEvent(models.Model):
    """One attempt to get in, kept for admins: whom it let in or why it refused."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Signed in")
        REFUSED = "refused", _("Refused")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    employee = models.ForeignKey("org.Employee", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="sign_in_events", verbose_name=_("employee"))
    # What the person presented (an employee number, a platform user id, an e-mail): the admin needs it
    # to see whom to add or fix; never a password or a token.
    identifier = models.CharField(_("identifier"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["outcome", "ip_address", "at"])]

    def __str__(self):
        return f"{self.get_method_display()} {self.get_outcome_display()} {self.identifier}"


class LinkedIdentity(models.Model):
    """An outside account (an OpenID Connect subject, a DingTalk user id, ...) that has signed in as an
    employee. The first sign-in matches by the organisation's fields and links; later sign-ins follow
    the link. Unlinking (audited) makes the next sign-in match afresh."""

    employee = models.ForeignKey("org.Employee", on_delete=models.CASCADE, related_name="identities",
                                 verbose_name=_("employee"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    subject = models.CharField(_("account"), max_length=255)
    linked_at = models.DateTimeField(_("linked"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["method", "subject"]
        constraints = [models.UniqueConstraint(fields=["method", "subject"], name="identity_unique_subject")]

    def __str__(self):
        return f"{self.get_method_display()}: {self.subject}"

