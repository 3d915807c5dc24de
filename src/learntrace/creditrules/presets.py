"""The rule sets shipped ready to use; an admin creates one for a year and edits it from there."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import CreditClass
from learntrace.core.audit import record_change
from learntrace.creditrules.models import CreditRuleCap, CreditRuleLine, CreditRuleSet, CreditSource

# The credit classes of the older scheme, made on first use (an admin may rename them).
CLASS_I = ("cme-class-1", "I类学分", "Class I credits")
CLASS_II = ("cme-class-2", "II类学分", "Class II credits")


@dataclass(frozen=True)
class Preset:
    code: str
    name: object  # a lazy translation
    basis: str
    min_credits: Decimal
    min_hours: Decimal = Decimal("0")
    hours_per_credit: Decimal | None = None
    max_credits_per_project: Decimal | None = None
    caps: dict = field(default_factory=dict)  # source -> max credits
    class_lines: tuple = ()  # ((code, name, English name), min, max)


PRESETS = {preset.code: preset for preset in [
    # 国卫办科教发〔2024〕20号: 25 credits and 90 hours a year, no class I/II split,
    # self-study counted up to 10 credits.
    Preset("national_2024", _("National rules of October 2024"), "国卫办科教发〔2024〕20号",
           min_credits=Decimal("25"), min_hours=Decimal("90"), caps={CreditSource.SELF_STUDY: Decimal("10")}),
    # The scheme before it: class I 5 to 10 credits, class II 15 to 20, 25 in all.
    Preset("classes_i_ii", _("Class I and class II credits (older scheme)"), "继续医学教育学分授予与管理办法",
           min_credits=Decimal("25"), class_lines=((CLASS_I, Decimal("5"), Decimal("10")),
                                                   (CLASS_II, Decimal("15"), Decimal("20")))),
    # Traditional medicine, 2026: 3 hours make 1 credit, at most 10 credits per project.
    Preset("tcm_2026", _("Traditional Chinese medicine (2026)"), "中医药继续教育",
           min_credits=Decimal("25"), hours_per_credit=Decimal("3"), max_credits_per_project=Decimal("10")),
]}


def preset_choices() -> list[tuple[str, object]]:
    return [(code, preset.name) for code, preset in PRESETS.items()]


@transaction.atomic
def create_from_preset(*, actor, code: str, from_year: int) -> CreditRuleSet:
    preset = PRESETS[code]
    rule_set = CreditRuleSet.objects.create(
        from_year=from_year, name=str(preset.name), basis=preset.basis, min_credits=preset.min_credits,
        min_hours=preset.min_hours, hours_per_credit=preset.hours_per_credit,
        max_credits_per_project=preset.max_credits_per_project,
        created_by=actor if actor is not None and actor.is_authenticated else None)
    for (class_code, name, name_en), minimum, maximum in preset.class_lines:
        credit_class, _created = CreditClass.objects.get_or_create(code=class_code,
                                                                   defaults={"name": name, "name_en": name_en})
        CreditRuleLine.objects.create(rule_set=rule_set, credit_class=credit_class, min_credits=minimum,
                                      max_credits=maximum)
    for source, maximum in preset.caps.items():
        CreditRuleCap.objects.create(rule_set=rule_set, source=source, max_credits=maximum)
    record_change(actor=actor, action="create", obj=rule_set, summary=f"{rule_set} ({code})")
    return rule_set
