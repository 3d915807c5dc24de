"""API tokens and their use, learning record stores with their statement outbox, and the
continuing-education exports."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learntrace.core.crypto import EncryptedTextField
from learntrace.records.models import Completion


class Scope(models.TextChoices):
    ORG_READ = "org:read", _("Read departments and employees")
    ORG_WRITE = "org:write", _("Create and update departments and employees")
    CATALOG_READ = "catalog:read", _("Read courses and credit classes")
    CATALOG_WRITE = "catalog:write", _("Create and change courses")
    PLANS_READ = "plans:read", _("Read plans and each person's progress")
    PLANS_WRITE = "plans:write", _("Create, change and publish plans; review reflections")
    RECORDS_READ = "records:read", _("Read completions, attendance and exam results")
    RECORDS_WRITE = "records:write", _("Import past training records")
    COMPLIANCE_READ = "compliance:read", _("Read compliance outcomes and consequences")
    CHECKIN_WRITE = "checkin:write", _("Check people in at meetings (kiosks, badge readers)")
    MEETINGS_WRITE = "meetings:write", _("Schedule and change meetings")


class ApiToken(models.Model):
    """A bearer token that acts as its owner, limited to its scopes. Only a hash of the secret
    is kept: the token is shown once, when it is created."""

    name = models.CharField(pgettext_lazy("thing", "name"), max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acts as"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    # The public part of the token ("lt_<prefix>_<secret>"), to find the row without the secret.
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)  # SHA-256 of the whole token, hex
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    def is_usable(self, now=None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())


class TokenUse(models.Model):
    """One request made with a token: which operation, its status, when. No personal data:
    the endpoint is the route pattern, not the path with its values."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField()
    method = models.CharField(max_length=8)
    endpoint = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["token", "at"])]

    def __str__(self):
        return f"{self.method} {self.endpoint} {self.status}"


class RateWindow(models.Model):
    """How many requests a token made in one minute (`minute`: minutes since the Unix epoch). One
    row per token and minute in the database, counted with one atomic upsert, so every process
    and every web host sees the same count."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField()
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "minute"], name="one_rate_window_per_minute")]
        indexes = [models.Index(fields=["minute"])]

    def __str__(self):
        return f"{self.token_id} @{self.minute}: {self.requests}"


class Installation(models.Model):
    """This installation's identity, generated once and kept in the database: statement ids are
    derived from it, so that a reinstall that hands out the same primary keys under the same
    SITE_URL does not send a different fact under an id a store already holds."""

    uuid = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return str(self.uuid)


class RecordStore(models.Model):
    """A learning record store that receives xAPI statements. Each fact is queued for it once,
    as a statement row that names the fact; the floors only bound the search for facts not
    queued yet (see xapi.queue_new_facts)."""

    name = models.CharField(pgettext_lazy("thing", "name"), max_length=100)
    endpoint = models.URLField(_("endpoint"), help_text=_("The LRS's xAPI base URL; statements are sent to "
                                                         "<endpoint>/statements."))
    username = models.CharField(_("user name (Basic auth)"), max_length=200, blank=True)
    password = EncryptedTextField(_("password (Basic auth)"), blank=True, default="")
    is_active = models.BooleanField(pgettext_lazy("switched on", "active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Every completion (meeting CreditedTime) with an id up to the floor is queued.
    completion_floor = models.BigIntegerField(default=0)
    attendance_floor = models.BigIntegerField(default=0)
    video_day_mark = models.DateField(null=True, blank=True)  # last local day of video time queued
    # Every correction with an id up to the floor has been brought to this store (see xapi._queue_corrections).
    correction_floor = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("learning record store")
        verbose_name_plural = _("learning record stores")

    def __str__(self):
        return self.name


class Statement(models.Model):
    """One xAPI statement queued for one store (the outbox). The body is built once, so a
    resend sends exactly the same statement with the same id. The fact it tells of
    (`fact_kind`, `fact_id`; no id for a day's video time) is how queueing knows what is left.
    A sender claims the rows it posts (`claim`, until `claimed_until`): no two senders post
    the same statement."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Delivered")
        FAILED = "failed", _("Failed")
        # The store holds a different statement under this id (409, and its copy differs).
        CONFLICT = "conflict", _("Conflict")

    store = models.ForeignKey(RecordStore, on_delete=models.CASCADE, related_name="statements")
    statement_id = models.UUIDField()
    verb = models.CharField(max_length=200)
    fact_kind = models.CharField(max_length=16, blank=True)  # completion, attended, video-day, correction
    fact_id = models.BigIntegerField(null=True, blank=True)
    fact_key = models.CharField(max_length=64, blank=True)  # a day's video time: "employee:course:day"
    # A voiding statement names the statement it withdraws (the newer version of a corrected fact follows it).
    voids = models.UUIDField(null=True, blank=True)
    body = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["store", "statement_id"], name="one_statement_per_store")]
        indexes = [models.Index(fields=["store", "status", "next_attempt_at"]),
                   models.Index(fields=["store", "fact_kind", "fact_id"], name="statement_fact"),
                   models.Index(fields=["store", "fact_kind", "fact_key"], name="statement_fact_key")]

    def __str__(self):
        return f"{self.store} {self.statement_id} {self.status}"


class CreditExport(models.Model):
    """One continuing-education export: the year, the columns as mapped, and the completions
    it held (so "only not yet exported" knows what went out)."""

    year = models.PositiveSmallIntegerField(_("year"))
    file_format = models.CharField(_("format"), max_length=8)
    columns = models.JSONField(default=list)  # [{"key": "credits", "header": "学分"}, ...] in order
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    only_new = models.BooleanField(_("only completions not yet exported"), default=False)
    row_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completions = models.ManyToManyField(Completion, through="ExportedCompletion", related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("continuing-education export")
        verbose_name_plural = _("continuing-education exports")

    def __str__(self):
        return f"{self.year} {self.file_format} {self.created_at:%Y-%m-%d %H:%M}"


class ExportTemplate(models.Model):
    """Columns, their order and headers, and the format that one continuing-education platform
    imports, saved by an admin (or shipped) to be chosen again for the next export."""

    name = models.CharField(_("template name"), max_length=100, unique=True)
    file_format = models.CharField(_("format"), max_length=8, default="xlsx")
    columns = models.JSONField(default=list)  # as CreditExport.columns
    shipped = models.BooleanField(default=False)  # one of learntrace's own; kept as shipped
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-shipped", "name"]
        verbose_name = _("export template")

    def __str__(self):
        return self.name


class ExportedCompletion(models.Model):
    export = models.ForeignKey(CreditExport, on_delete=models.CASCADE)
    completion = models.ForeignKey(Completion, on_delete=models.PROTECT, related_name="exports")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["export", "completion"], name="one_row_per_export")]

    def __str__(self):
        return f"{self.export_id}: {self.completion_id}"
