"""The training file (培训档案): one person's permanent learning history, and the seal it is anchored to."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Max, Sum
from django.db.models.functions import ExtractYear

from learntrace.checkin.models import Attendance
from learntrace.core.months import local_zone
from learntrace.evidence.models import Pending
from learntrace.evidence.services import seal_of
from learntrace.plans.models import Assignment, Reflection
from learntrace.plans.progress import progress_for
from learntrace.records import effective
from learntrace.records.models import Completion, Correction, CreditedTime, OutsideCredit


@dataclass
class TrainingFile:
    employee: object
    years: list = field(default_factory=list)  # [(year, {kind: seconds}, total seconds, [credit rows])]
    completions: list = field(default_factory=list)
    outside: list = field(default_factory=list)  # credits earned elsewhere (approved declarations)
    meetings: list = field(default_factory=list)
    reflections: list = field(default_factory=list)
    corrections: list = field(default_factory=list)
    correctable: list = field(default_factory=list)
    assignments: list = field(default_factory=list)  # plans.progress.Progress of every period
    seal: object = None  # the newest seal covering this person's facts
    unsealed: int = 0


def training_file(employee) -> TrainingFile:
    zone = local_zone()
    hours = defaultdict(dict)
    time = effective.credited_time(employee_ids=[employee.pk], zone=zone)
    for (_employee_id, year, kind), kind_seconds in time.seconds.items():
        hours[year][kind] = kind_seconds
    credits = defaultdict(list)
    for row in (effective.completions().filter(employee=employee)
                .annotate(year=ExtractYear("completed_at", tzinfo=zone))
                .values("year", "credit_class__name", "credit_class__name_en", "category__name", "category__name_en")
                .annotate(total=Sum("credits")).order_by("credit_class__name", "category__name")):
        credits[row["year"]].append(row)
    for row in (OutsideCredit.objects.filter(employee=employee)
                .annotate(year=ExtractYear("credited_at", tzinfo=zone))
                .values("year", "credit_class__name", "credit_class__name_en", "category__name", "category__name_en")
                .annotate(total=Sum("credits")).order_by("credit_class__name", "category__name")):
        credits[row["year"]].append(row | {"outside": True})
    years = sorted(set(hours) | set(credits), reverse=True)
    result = TrainingFile(employee=employee)
    result.years = [(year, dict(hours[year]), sum(hours[year].values()), credits[year]) for year in years]
    result.completions = list(Completion.objects.filter(employee=employee)
                              .select_related("course", "credit_class", "category").order_by("-completed_at"))
    result.outside = list(OutsideCredit.objects.filter(employee=employee)
                          .select_related("credit_class", "category").order_by("-credited_at"))
    voids = {c.corrects_id: c for c in effective.voids().filter(employee=employee)}
    for completion in result.completions:
        completion.voided_by = voids.get(completion.pk)
    result.corrections = list(Correction.objects.filter(employee=employee).select_related("course", "actor")
                              .order_by("-recorded_at"))
    # What an admin may correct: the person's time, per course, pointing at its newest fact.
    result.correctable = list(CreditedTime.objects.filter(employee=employee).values("course_id", "course__title")
                              .annotate(seconds=Sum("seconds"), newest=Max("id")).order_by("course__title"))
    result.meetings = list(Attendance.objects.filter(employee=employee).select_related("meeting").defer("signature")
                           .order_by("-meeting__starts_at"))
    result.reflections = list(Reflection.objects.filter(assignment__employee=employee)
                              .select_related("assignment__period__plan").order_by("-updated_at"))
    result.assignments = progress_for(Assignment.objects.filter(employee=employee).select_related("period__plan")
                                      .order_by("-period__starts_at"))
    # The seal of the person's newest sealed fact of each kind; the newest of those.
    seals, result.unsealed = [], 0
    for code, facts in ((1, CreditedTime.objects), (2, Completion.objects), (7, OutsideCredit.objects)):
        queued = Pending.objects.filter(source=code).values("fact_id")
        mine = facts.filter(employee=employee)
        result.unsealed += mine.filter(id__in=queued).count()
        newest = mine.exclude(id__in=queued).aggregate(m=Max("id"))["m"]
        if newest is not None and (seal := seal_of(code, newest)) is not None:
            seals.append(seal)
    result.seal = max(seals, key=lambda seal: seal.number, default=None)
    return result
