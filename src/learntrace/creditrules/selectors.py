"""Which rule set judges a year, and a year's credit items of people, read from the facts."""

from collections import defaultdict
from dataclasses import replace

from learntrace.catalog.models import CourseKind
from learntrace.core import months
from learntrace.creditrules.judge import Cap, CreditItem, Judgement, Line, judge
from learntrace.creditrules.models import CreditRuleSet, CreditSource
from learntrace.records import effective
from learntrace.records.models import OutsideCredit

SOURCE_OF_KIND = {
    CourseKind.VIDEO: CreditSource.SELF_STUDY, CourseKind.DOCUMENT: CreditSource.SELF_STUDY,
    CourseKind.OFFLINE: CreditSource.MEETING, CourseKind.LIVE: CreditSource.MEETING,
    OutsideCredit.Kind.CONFERENCE: CreditSource.MEETING, OutsideCredit.Kind.ONLINE: CreditSource.DISTANCE,
    OutsideCredit.Kind.FURTHER_STUDY: CreditSource.FURTHER_STUDY,
    OutsideCredit.Kind.SELF_STUDY: CreditSource.SELF_STUDY,
}


def rule_set_for(year: int) -> CreditRuleSet | None:
    """The rule set in force in `year`: the latest one from that year or before."""
    return CreditRuleSet.objects.filter(from_year__lte=year).order_by("-from_year").first()


def year_of(rule_set: CreditRuleSet) -> tuple[int, int | None]:
    """The years a rule set judges: [from, until) (until None: from then on)."""
    following = CreditRuleSet.objects.filter(from_year__gt=rule_set.from_year).order_by("from_year").first()
    return rule_set.from_year, following.from_year if following else None


def rules_of(rule_set: CreditRuleSet) -> tuple[list[Line], list[Cap], set[int]]:
    """Fresh copies of the rule set's lines and caps (a judgement fills them in), and its professional
    categories."""
    lines = [Line(line.credit_class_id, line.category_id, str(line), line.min_credits, line.max_credits)
             for line in rule_set.lines.select_related("credit_class", "category")]
    caps = [Cap(cap.source, cap.get_source_display(), cap.max_credits) for cap in rule_set.caps.all()]
    return lines, caps, set(rule_set.professional_categories.values_list("pk", flat=True))


def year_items(employee_ids, year: int) -> dict[int, list[CreditItem]]:
    """{employee id: credit items of the calendar year}: the completions that count (voided ones
    aside) and the approved credits earned elsewhere, by the local day they were earned."""
    start, end = months.year_bounds(year)
    items = defaultdict(list)
    for row in effective.completions().filter(
            employee_id__in=employee_ids, completed_at__gte=start, completed_at__lt=end,
    ).values("id", "employee_id", "course__title", "course__kind", "course__duration_seconds", "completed_at",
             "credits", "credit_class_id", "category_id"):
        items[row["employee_id"]].append(CreditItem(
            key=f"completion:{row['id']}", label=row["course__title"], on=months.local_date(row["completed_at"]),
            credits=row["credits"], seconds=row["course__duration_seconds"],
            source=SOURCE_OF_KIND[row["course__kind"]],
            credit_class_id=row["credit_class_id"], category_id=row["category_id"]))
    for row in OutsideCredit.objects.filter(
            employee_id__in=employee_ids, credited_at__gte=start, credited_at__lt=end,
    ).values("id", "employee_id", "title", "kind", "seconds", "credited_at", "credits", "credit_class_id",
             "category_id"):
        items[row["employee_id"]].append(CreditItem(
            key=f"outside:{row['id']}", label=row["title"], on=months.local_date(row["credited_at"]),
            credits=row["credits"], seconds=row["seconds"], source=SOURCE_OF_KIND[row["kind"]],
            credit_class_id=row["credit_class_id"], category_id=row["category_id"]))
    return dict(items)


def judge_year(employee_ids, year: int, rule_set: CreditRuleSet | None = None) -> dict[int, Judgement]:
    """{employee id: judgement} of a year by its rule set; empty when no rule set is in force."""
    rule_set = rule_set or rule_set_for(year)
    if rule_set is None:
        return {}
    employee_ids = list(employee_ids)
    items = year_items(employee_ids, year)
    lines, caps, professional = rules_of(rule_set)
    return {employee_id: judge(rule_set, items.get(employee_id, []), year=year, lines=[replace(line) for line in lines],
                               caps=[replace(cap) for cap in caps], professional_category_ids=professional)
            for employee_id in employee_ids}
