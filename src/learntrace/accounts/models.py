"""Who signed in, how, and which outside identities stand for which employee."""

from django.conf import settings
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



class SignInLink(models.Model):
    """A link that lets one person choose their own password and signs them in: an activation sent by a
    training admin, or a reset the person asked for. Only a hash of its token is stored; it works once
    (claimed by a conditional update), until it expires, and using one closes the person's other links."""

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", _("Activation")
        RESET = "reset", _("Password reset")

    employee = models.ForeignKey("org.Employee", on_delete=models.CASCADE, related_name="sign_in_links",
                                 verbose_name=_("employee"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # Of the password the person had when the link was made: any change of password since (by the
    # person, an admin or another link) makes the link useless, as Django's reset tokens do.
    password_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    channel_kind = models.CharField(_("sent by"), max_length=32, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)  # superseded or not delivered

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["employee", "purpose", "sent_at"])]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.employee_id}"


class LinkBatch(models.Model):
    """Activation links sent by a training admin to a selection of people, run by the worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    channel_ids = models.JSONField(default=list)  # tried in this order for each person
    site_url = models.CharField(max_length=300)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"#{self.pk}"


class LinkDispatch(models.Model):
    """What happened to one person of a batch."""

    class Outcome(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        UNREACHABLE = "unreachable", _("No channel reaches them")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: already has a login or is deactivated")

    batch = models.ForeignKey(LinkBatch, on_delete=models.CASCADE, related_name="dispatches")
    employee = models.ForeignKey("org.Employee", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("employee"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.QUEUED)
    channel_name = models.CharField(_("channel"), max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        ordering = ["batch", "id"]
        constraints = [models.UniqueConstraint(fields=["batch", "employee"], name="one_dispatch_per_person")]

    def __str__(self):
        return f"{self.batch_id}:{self.employee_id} {self.outcome}"


class ResetRequest(models.Model):
    """A "forgot password" request, kept to throttle them per address and per person (whoever was
    named; nothing of what was typed is stored)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    employee = models.ForeignKey("org.Employee", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    def __str__(self):
        return f"{self.at} {self.ip_address}"


class LatestSession(models.Model):
    """The session of a person's latest sign-in. With LAST_SIGNIN_WINS on, every other session of
    theirs ends at its next request: one person, one place where they learn."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="+")
    session_key = models.CharField(max_length=40)
    signed_in_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user_id} {self.signed_in_at:%Y-%m-%d %H:%M}"
