"""Yearly credit rule sets: how a year's continuing-education credits are judged.

A rule set is in force from its year until the year of the next one, so 2025 and 2026 are
each judged by the rules of their own year, and editing next year's rules leaves the past alone."""

from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, CreditClass


class CreditSource(models.TextChoices):
    """Where a credit comes from, for the caps per source."""

    SELF_STUDY = "self_study", _("Self-study")  # video and document courses, declared self-study
    MEETING = "meeting", _("Meetings and conferences")  # offline and live courses, declared conferences
    DISTANCE = "distance", _("Online programmes elsewhere")  # a provincial online programme
    FURTHER_STUDY = "further_study", _("Further study (进修)")


def parse_share(text: str) -> Fraction | None:
    """"2/3", "0.7" or "70%" as a fraction of 1; None for blank; ValueError when not one."""
    text = text.strip()
    if not text:
        return None
    share = Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)
    if not 0 < share <= 1:
        raise ValueError(text)
    return share


def validate_share(text: str) -> None:
    try:
        parse_share(text)
    except (ValueError, ZeroDivisionError):
        raise ValidationError(_("Give a share between 0 and 1, such as 2/3, 0.7 or 70%.")) from None


class CreditRuleSet(models.Model):
    from_year = models.PositiveSmallIntegerField(
        _("in force from year"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_("Judges this year and the following ones, until the year of the next rule set."))
    name = models.CharField(_("name"), max_length=200)
    basis = models.CharField(_("basis"), max_length=300, blank=True,
                             help_text=_("The regulation these rules follow, e.g. its document number."))
    min_credits = models.DecimalField(_("minimum credits a year"), max_digits=6, decimal_places=2,
                                      default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    min_hours = models.DecimalField(_("minimum hours a year"), max_digits=7, decimal_places=2,
                                    default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    hours_per_credit = models.DecimalField(
        _("hours per credit"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("When set, every activity earns its hours divided by this, instead of its stated credits."))
    max_credits_per_project = models.DecimalField(
        _("maximum credits per project"), max_digits=6, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("One course or declared project counts at most this many credits; blank: no limit."))
    professional_categories = models.ManyToManyField(
        Category, verbose_name=_("professional subjects (专业科目)"), blank=True, related_name="+",
        help_text=_("Categories that are professional subjects; every other category is a public subject (公需科目)."))
    professional_min_share = models.CharField(
        _("minimum share of professional hours"), max_length=16, blank=True, validators=[validate_share],
        help_text=_("Such as 2/3; blank: no minimum share."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-from_year"]
        verbose_name = _("credit rule set")
        verbose_name_plural = _("credit rule sets")

    def __str__(self):
        return f"{self.from_year}: {self.name}"


class CreditRuleLine(models.Model):
    """At least (and, optionally, counted up to) so many credits of one credit class and/or category."""

    rule_set = models.ForeignKey(CreditRuleSet, on_delete=models.CASCADE, related_name="lines")
    credit_class = models.ForeignKey(CreditClass, verbose_name=_("credit class"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    min_credits = models.DecimalField(_("minimum credits"), max_digits=6, decimal_places=2, default=Decimal("0"),
                                      validators=[MinValueValidator(Decimal("0"))])
    max_credits = models.DecimalField(_("counted up to"), max_digits=6, decimal_places=2, null=True, blank=True,
                                      validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(credit_class__isnull=False) | models.Q(category__isnull=False),
                                   name="creditruleline_names_class_or_category",
                                   violation_error_message=_("Choose a credit class, a category or both.")),
        ]

    def __str__(self):
        return " / ".join(str(part) for part in (self.credit_class, self.category) if part is not None)

    def clean(self):
        if self.max_credits is not None and self.max_credits < self.min_credits:
            raise ValidationError(_("The credits counted cannot be fewer than the minimum."))


class CreditRuleCap(models.Model):
    """At most so many credits a year from one source (e.g. self-study)."""

    rule_set = models.ForeignKey(CreditRuleSet, on_delete=models.CASCADE, related_name="caps")
    source = models.CharField(_("source"), max_length=16, choices=CreditSource.choices)
    max_credits = models.DecimalField(_("maximum credits"), max_digits=6, decimal_places=2,
                                      validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["rule_set", "source"], name="one_cap_per_source")]

    def __str__(self):
        return f"{self.get_source_display()} ≤ {self.max_credits}"
