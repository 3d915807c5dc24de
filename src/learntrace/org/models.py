"""The organisation: departments (a tree), employees and the roles people hold."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learntrace.core.crypto import EncryptedTextField, mask


class Department(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent department"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    # Materialised path of primary keys ("/1/7/12/"): a subtree is one indexed
    # prefix query on SQLite and PostgreSQL alike.
    path = models.CharField(max_length=1000, db_index=True, editable=False, default="")
    is_active = models.BooleanField(pgettext_lazy("switched on", "active"), default=True)
    # The employer (单位) continuing-education platforms ask for; departments below inherit it.
    employer = models.CharField(_("employer for credit exports"), max_length=200, blank=True,
                                help_text=_("Empty: the nearest parent department's employer."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    def subtree(self):
        return Department.objects.filter(path__startswith=self.path)


def inherited_employer(department: Department, employers: dict[int, str]) -> str:
    """The department's employer (单位), or its nearest parent's; `employers` maps the pks of
    departments that name one to it."""
    for pk in reversed([int(part) for part in department.path.strip("/").split("/") if part]):
        if employers.get(pk):
            return employers[pk]
    return ""


def employers() -> dict[int, str]:
    return dict(Department.objects.exclude(employer="").values_list("pk", "employer"))


class Level(models.TextChoices):
    STAFF = "staff", _("Staff")
    MANAGER = "manager", _("Manager")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    EXECUTIVE = "executive", _("Executive")


class Employee(models.Model):
    employee_no = models.CharField(_("employee number"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="employees"
    )
    position = models.CharField(_("position"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=32, choices=Level.choices, default=Level.STAFF)
    # Tags are stored as ",tag1,tag2," so that "has tag X" is a portable
    # `contains ",X,"` query; `tag_list` is the Python view.
    tags = models.CharField(_("tags"), max_length=1000, blank=True, default="")
    email = models.EmailField(_("e-mail"), blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    dingtalk_user_id = models.CharField(_("DingTalk user id"), max_length=128, blank=True)
    wecom_user_id = models.CharField(_("WeCom user id"), max_length=128, blank=True)
    feishu_user_id = models.CharField(_("Feishu user id"), max_length=128, blank=True)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    national_id = EncryptedTextField(_("national ID number"), blank=True, default="")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="employee"
    )
    language = models.CharField(_("language"), max_length=16, blank=True, choices=settings.LANGUAGES)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["employee_no"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        indexes = [models.Index(fields=["department", "is_active"])]

    def __str__(self):
        return f"{self.name} ({self.employee_no})"

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]

    @staticmethod
    def join_tags(tags) -> str:
        cleaned = sorted({tag.strip() for tag in tags if tag and tag.strip()})
        return f",{','.join(cleaned)}," if cleaned else ""

    @property
    def national_id_masked(self) -> str:
        return mask(self.national_id)


class Role(models.TextChoices):
    LEARNER = "learner", _("Learner")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    TRAINING_ADMIN = "training_admin", _("Training admin")
    AUDITOR = "auditor", _("Auditor")


class RoleGrant(models.Model):
    """A role held by a user. Every active employee is a learner without a grant;
    a department head's grant is scoped to one department and its subtree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="role_grants",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "department"], name="unique_role_grant"),
            models.UniqueConstraint(
                fields=["user", "role"], condition=models.Q(department__isnull=True),
                name="unique_unscoped_role_grant",
            ),
            models.CheckConstraint(
                condition=models.Q(role="department_head", department__isnull=False)
                | (~models.Q(role="department_head") & models.Q(department__isnull=True)),
                name="department_only_for_heads",
            ),
        ]

    def __str__(self):
        return f"{self.user} {self.role} {self.department or ''}".strip()


class ImportBatch(models.Model):
    """One uploaded organisation file, from dry run to applied."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking")
        VALIDATED = "validated", _("Ready to import")
        INVALID = "invalid", _("Has errors")
        # Confirmed, waiting for the worker: shown as started, so the page never offers the import again.
        QUEUED = "queued", _("Import started")
        APPLYING = "applying", _("Importing")
        APPLIED = "applied", _("Imported")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired: upload the file again")

    class Source(models.TextChoices):
        FILE = "file", _("File")
        DINGTALK = "dingtalk", _("DingTalk contacts")
        WECOM = "wecom", _("WeCom contacts")
        FEISHU = "feishu", _("Feishu contacts")
        LDAP = "ldap", _("LDAP directory")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A directory sync is a batch like an uploaded file: its stored file is what the directory answered.
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.FILE)
    file_name = models.CharField(_("file"), max_length=255)
    stored_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    deactivate_missing = models.BooleanField(
        _("deactivate employees missing from the file"), default=False
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.VALIDATING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # Field by field, what the import changes in existing rows (sensitive values masked).
    changed_rows = models.JSONField(default=list, blank=True)
    changed_row_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    # Row errors are written in the uploader's language.
    language = models.CharField(max_length=16, default=settings.LANGUAGE_CODE)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the import (after confirmation) started; the check starts at created_at.
    applying_since = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("organisation import")
        verbose_name_plural = _("organisation imports")

    def __str__(self):
        return f"{self.file_name} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.VALIDATING, self.Status.QUEUED, self.Status.APPLYING}
