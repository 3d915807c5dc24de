"""Judging one person's year of credits by a rule set: what counts, what a cap cut, what is missing.

Pure arithmetic over `CreditItem`s (gathered by `selectors.year_items`), so that the rules can be
tested without a database. Caps apply in the order the credits were earned: the credits that
arrive after a cap is full are the ones it cuts."""

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from learntrace.creditrules.models import CreditRuleSet, parse_share

ZERO = Decimal("0")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CreditItem:
    key: str  # "completion:12", "outside:5": unique per person
    label: str
    on: object  # datetime.date: the day it was earned
    credits: Decimal  # as stated by the course or the declaration
    seconds: int  # the hours it lasted
    source: str  # CreditSource
    credit_class_id: int | None
    category_id: int | None


@dataclass
class Line:
    """A line of the rule set: its minimum, the credits counted towards it."""

    credit_class_id: int | None
    category_id: int | None
    label: str
    min_credits: Decimal
    max_credits: Decimal | None
    done: Decimal = ZERO

    @property
    def owed(self) -> Decimal:
        return max(self.min_credits - self.done, ZERO)

    @property
    def met(self) -> bool:
        return self.done >= self.min_credits

    def covers(self, item: CreditItem) -> bool:
        return ((self.credit_class_id is None or item.credit_class_id == self.credit_class_id)
                and (self.category_id is None or item.category_id == self.category_id))


@dataclass
class Cap:
    source: str
    label: str
    max_credits: Decimal
    used: Decimal = ZERO


@dataclass
class ItemJudgement:
    item: CreditItem
    earned: Decimal  # after the conversion from hours and the cap per project
    counted: Decimal = ZERO  # after the caps per source and per line
    cut_by: list = field(default_factory=list)  # ["project", "source", "line"]: what reduced it


@dataclass
class Judgement:
    rule_set: CreditRuleSet
    year: int
    items: list
    lines: list
    caps: list
    counted: Decimal
    min_credits: Decimal
    seconds: int
    min_seconds: int
    professional_seconds: int
    professional_share: Fraction | None

    @property
    def credits_met(self) -> bool:
        return self.counted >= self.min_credits

    @property
    def hours_met(self) -> bool:
        return self.seconds >= self.min_seconds

    @property
    def share_met(self) -> bool:
        share = self.professional_share
        return share is None or self.professional_seconds * share.denominator >= self.seconds * share.numerator

    @property
    def met(self) -> bool:
        return self.credits_met and self.hours_met and self.share_met and all(line.met for line in self.lines)

    @property
    def missing(self) -> list[dict]:
        """What is owed, as `plans.progress` figures' "missing" entries: all of the kind "credits"
        (a plan's credit requirement), those about hours or the professional share marked by "rule"."""
        missing = []
        if not self.credits_met:
            missing.append({"what": "credits", "owed": str(self.min_credits - self.counted),
                            "credit_class": "", "category": ""})
        for line in self.lines:
            if not line.met:
                missing.append({"what": "credits", "owed": str(line.owed), "credit_class": line.label,
                                "category": ""})
        if not self.hours_met:
            missing.append({"what": "credits", "rule": "hours", "owed": self.min_seconds - self.seconds})
        if not self.share_met:
            missing.append({"what": "credits", "rule": "professional_share",
                            "share": self.rule_set.professional_min_share.strip()})
        return missing


def earned(rule_set: CreditRuleSet, item: CreditItem) -> tuple[Decimal, list]:
    """An item's credits under the rule set before the yearly caps: converted from hours when the
    rules say so, and cut to the maximum per project."""
    cut = []
    if rule_set.hours_per_credit:
        credits = (Decimal(item.seconds) / 3600 / rule_set.hours_per_credit).quantize(CENT, rounding=ROUND_DOWN)
    else:
        credits = item.credits
    if rule_set.max_credits_per_project is not None and credits > rule_set.max_credits_per_project:
        credits, cut = rule_set.max_credits_per_project, ["project"]
    return credits, cut


def judge(rule_set: CreditRuleSet, items, *, year: int, lines: list[Line], caps: list[Cap],
          professional_category_ids: set[int]) -> Judgement:
    """The year of one person: `lines` and `caps` are fresh copies of the rule set's (see
    `selectors.rules_of`), filled in here."""
    judged = []
    caps_by_source = {cap.source: cap for cap in caps}
    for item in sorted(items, key=lambda item: (item.on, item.key)):
        credits, cut = earned(rule_set, item)
        judgement = ItemJudgement(item, credits, cut_by=cut)
        counted = credits
        cap = caps_by_source.get(item.source)
        if cap is not None:
            allowed = min(counted, max(cap.max_credits - cap.used, ZERO))
            if allowed < counted:
                judgement.cut_by.append("source")
            counted = allowed
        for line in lines:
            if line.max_credits is not None and line.covers(item):
                allowed = min(counted, max(line.max_credits - line.done, ZERO))
                if allowed < counted:
                    judgement.cut_by.append("line")
                counted = allowed
        if cap is not None:
            cap.used += counted
        for line in lines:
            if line.covers(item):
                line.done += counted
        judgement.counted = counted
        judged.append(judgement)
    seconds = sum(item.seconds for item in items)
    return Judgement(
        rule_set=rule_set, year=year, items=judged, lines=lines, caps=caps,
        counted=sum((j.counted for j in judged), ZERO), min_credits=rule_set.min_credits,
        seconds=seconds, min_seconds=int(rule_set.min_hours * 3600),
        professional_seconds=sum(item.seconds for item in items if item.category_id in professional_category_ids),
        professional_share=parse_share(rule_set.professional_min_share) if professional_category_ids else None,
    )
