"""The demo's catalogue, plans and history.

- Tech company: "管理层月度学习计划" — on the 1st HR publishes two 4-hour video courses
  for the 50 managers, due on the 25th, with a reflection (学习心得). About one manager
  in five does not finish, as in the article before learntrace.
- Hospital: the 30 department heads owe 8 hours of management training a month, at
  least 4 by video and 4 in offline meetings, and 25 credits a year, 5 in management.
- "战略管理": a 60-minute course whose viewers watched 30 minutes on average, and its
  first 15-minute segment with questions: the article's course insight.
"""

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from learntrace.catalog.models import Category, Choice, Course, CourseKind, CreditClass, Question, Quiz
from learntrace.checkin import services as checkin_services
from learntrace.checkin.models import Meeting
from learntrace.core.months import add_months, local_date, local_zone
from learntrace.org.models import Department, Employee, Level
from learntrace.plans import services as plan_services
from learntrace.plans.models import Assignment, LearningPlan, PeriodType, PlanCreditTarget, PlanDepartment, PlanItem
from learntrace.records.models import CourseProgress, Source
from learntrace.records.services import record_credited_time, submit_quiz

MEDIA = Path(__file__).parent / "media"
HOUR = 3600

# Two new 4-hour courses each month for the tech managers, oldest month first.
TECH_MONTHS = [
    [("高效会议管理", "management-communication"), ("团队激励与授权", "strategy-execution")],
    [("绩效面谈技巧", "management-communication"), ("跨部门协作", "strategy-execution")],
    [("管理沟通技巧", "management-communication"), ("战略落地方法", "strategy-execution")],
]
# Two 2-hour videos and two 2-hour management meetings each month for the department heads.
HOSPITAL_MONTHS = [
    ["医疗质量与安全管理", "医院绩效管理"],
    ["科室人才梯队建设", "DRG/DIP 支付改革解读"],
    ["医院管理前沿", "科室运营与质量管理"],
]
REFLECTION = ("本月学习了{course}。体会最深的是管理者要先把目标讲清楚,再给团队留出空间;"
              "下个月我会在周例会上试行新的沟通方式,并跟踪团队的反馈。")


def _stored(name: str, folder: str) -> str:
    """Copy a committed media file into the media folder once; courses may share it."""
    source = MEDIA / name
    target = f"courses/{folder}/{name}"
    if not default_storage.exists(target):
        with source.open("rb") as handle:
            target = default_storage.save(target, File(handle))
    return target


def _month_starts(now: dt.datetime, count: int) -> list[dt.date]:
    this_month = local_date(now)
    return [add_months(this_month, -back) for back in range(count - 1, -1, -1)]


def _moment(rng: random.Random, month: dt.date, now: dt.datetime, last_day: int = 24) -> dt.datetime | None:
    """A random working moment in the month, before `now` (None if the month has no such day yet)."""
    today = timezone.localtime(now, local_zone()).date()
    latest = min(last_day, today.day - 1) if (month.year, month.month) == (today.year, today.month) else last_day
    if latest < 1:
        return None
    day = month.replace(day=rng.randint(1, latest))
    return dt.datetime.combine(day, dt.time(rng.randint(8, 20), rng.randint(0, 59)), tzinfo=local_zone())


def load_learning(now: dt.datetime) -> None:
    rng = random.Random(2023)
    management = Category.objects.create(code="management", name="管理", name_en="Management")
    clinical = Category.objects.create(code="clinical", name="临床", name_en="Clinical")
    compliance = Category.objects.create(code="compliance", name="合规", name_en="Compliance")
    Category.objects.create(code="professional", name="专业技能", name_en="Professional skills")
    cme1 = CreditClass.objects.create(code="cme-1", name="I类学分", name_en="CME class I")
    cme2 = CreditClass.objects.create(code="cme-2", name="II类学分", name_en="CME class II")
    internal = CreditClass.objects.create(code="internal", name="内部学分", name_en="Internal")

    def course(title, kind, duration, category, credits="0", credit_class=None, media=None, **fields):
        item = Course(title=title, kind=kind, duration_seconds=duration, category=category,
                      credits=Decimal(credits), credit_class=credit_class, is_published=True, **fields)
        if media and kind == CourseKind.VIDEO:
            item.video_file.name = _stored(f"{media}.webm", "videos")
        if media and kind == CourseKind.DOCUMENT:
            item.document_file.name = _stored(media, "documents")
        item.save()
        return item

    tech_courses = [[course(title, CourseKind.VIDEO, 4 * HOUR, management, "2", internal, media,
                            description="管理层月度学习计划课程") for title, media in month] for month in TECH_MONTHS]
    hospital_videos = [[course(title, CourseKind.VIDEO, 2 * HOUR, management, "2", cme2,
                               "hospital-management" if i == 0 else "ward-quality") for i, title in enumerate(month)]
                       for month in HOSPITAL_MONTHS]
    months = _month_starts(now, 3)
    meeting_courses = [[course(f"科室主任管理例会({m.month}月第{i + 1}场)", CourseKind.OFFLINE, 2 * HOUR, management,
                               "1", cme2, location="行政楼三楼第一会议室") for i in range(2)] for m in months]
    strategy = course("战略管理", CourseKind.VIDEO, HOUR, management, "1", internal, "strategic-management",
                      description="60 分钟完整版。平均观看时长只有 30 分钟,因此另行拆分为 15 分钟片段加互动问答。")
    segment = course("战略管理 第 1 节:目标拆解(15 分钟)", CourseKind.VIDEO, 15 * 60, management, "0.5", internal,
                     "strategic-management-part1")
    handbook = course("医疗合规手册", CourseKind.DOCUMENT, 20 * 60, compliance, "0.5", cme2,
                      "compliance-handbook.pdf", completion_threshold=100)
    sepsis = course("脓毒症诊治新进展", CourseKind.VIDEO, HOUR, clinical, "5", cme1, "strategic-management")
    course("医改政策解读(直播)", CourseKind.LIVE, HOUR, management, "1", cme2,
           external_url="https://meeting.example.com/live/policy")
    course("新任经理辅导(草稿)", CourseKind.VIDEO, HOUR, management, "1", internal, "strategic-management")
    Course.objects.filter(title="新任经理辅导(草稿)").update(is_published=False)
    quiz = Quiz.objects.create(course=segment, pass_mark=50, attempts_allowed=3)
    for position, (text, answers) in enumerate([
        ("战略目标拆解的第一步是?", [("明确组织的长期目标", True), ("先分配预算", False), ("先招人", False)]),
        ("好的部门目标应当具备哪些特点?(多选)", [("可衡量", True), ("有时限", True), ("越多越好", False)]),
    ]):
        question = Question.objects.create(quiz=quiz, text=text, position=position,
                                           kind=Question.Kind.MULTIPLE if position else Question.Kind.SINGLE)
        Choice.objects.bulk_create([Choice(question=question, text=t, is_correct=c, position=i)
                                    for i, (t, c) in enumerate(answers)])

    tech = Department.objects.get(code="TECH")
    hospital = Department.objects.get(code="HOSP")
    tech_plan = LearningPlan.objects.create(
        name="管理层月度学习计划", description="每月 1 日发布两门视频课程(每门 4 小时),25 日前完成并提交学习心得。",
        period_type=PeriodType.MONTHLY, starts_on=months[0], due_day=25, audience_levels=[Level.MANAGER],
        min_video_seconds=8 * HOUR, requires_reflection=True, reflection_min_chars=50,
    )
    PlanDepartment.objects.create(plan=tech_plan, department=tech, include_subtree=True)
    tech_plan.counted_categories.add(management)
    for i, item in enumerate(tech_courses[-1]):
        PlanItem.objects.create(plan=tech_plan, course=item, position=i)
    hospital_plan = LearningPlan.objects.create(
        name="科室主任月度管理培训", description="每月 8 小时管理类培训:视频不少于 4 小时,线下会议不少于 4 小时;"
        "每年继续教育 25 学分,其中管理类不少于 5 学分。",
        period_type=PeriodType.MONTHLY, starts_on=months[0], due_day=25, audience_levels=[Level.DEPARTMENT_HEAD],
        min_total_seconds=8 * HOUR, min_video_seconds=4 * HOUR, min_offline_seconds=4 * HOUR,
        follows_credit_rules=True,
    )
    PlanDepartment.objects.create(plan=hospital_plan, department=hospital, include_subtree=True)
    hospital_plan.counted_categories.add(management)
    PlanCreditTarget.objects.create(plan=hospital_plan, min_credits=Decimal("25"))
    PlanCreditTarget.objects.create(plan=hospital_plan, category=management, min_credits=Decimal("5"))
    compliance_plan = LearningPlan.objects.create(
        name="年度医疗合规学习", period_type=PeriodType.ONE_OFF, starts_on=months[-1],
        ends_on=months[-1].replace(day=28), audience_tags=["临床"],
    )
    PlanDepartment.objects.create(plan=compliance_plan, department=hospital, include_subtree=True)
    PlanItem.objects.create(plan=compliance_plan, course=handbook)

    for plan in (tech_plan, hospital_plan, compliance_plan):
        plan_services.publish_plan(actor=None, plan=plan, now=now)
    _rules(tech_plan, hospital_plan)
    # Two management meetings a month for the department heads, on the 8th and the 22nd at 14:00,
    # organised by the head of the medical affairs office; checked in by QR code.
    organiser = Employee.objects.filter(department__code="HOSP-MED", level=Level.DEPARTMENT_HEAD).first()
    meetings = []
    for month, courses in zip(months, meeting_courses, strict=True):
        month_meetings = []
        for day, item in zip((8, 22), courses, strict=True):
            starts = dt.datetime.combine(month.replace(day=day), dt.time(14, 0), tzinfo=local_zone())
            meeting = Meeting.objects.create(
                course=item, title=item.title, starts_at=starts, ends_at=starts + dt.timedelta(hours=2),
                location=item.location, roster=Meeting.Roster.PLAN, roster_plan=hospital_plan,
                allowed_networks="", checkout_required=False)
            if organiser is not None:
                meeting.organisers.add(organiser)
            month_meetings.append(meeting)
        meetings.append(month_meetings)

    # Each past month asked for the courses of that month.
    for period in tech_plan.periods.all():
        month = months.index(timezone.localtime(period.starts_at, local_zone()).date())
        period.targets = {**period.targets, "course_ids": [c.pk for c in tech_courses[month]]}
        period.save(update_fields=["targets"])

    _history(rng, now, months, tech_plan, tech_courses, hospital_videos, meetings, strategy, segment, sepsis, quiz)


def _rules(tech_plan, hospital_plan) -> None:
    """The article's consequences: the tech company's management allowance and performance points,
    the hospital's "excellent department" selection and department bonus."""
    from learntrace.compliance.models import Consequence, Rule

    monthly = Rule.objects.create(plan=tech_plan, name="月度学习达标", reflection_must_be_accepted=False)
    for applies_to, kind, name, value in (("non_compliant", "flag", "当月管理津贴", 0),
                                          ("compliant", "score", "绩效考核加分", 5),
                                          ("non_compliant", "score", "绩效考核加分", -5),
                                          ("above_target", "title", "培训之星", 0)):
        Consequence.objects.create(rule=monthly, applies_to=applies_to, kind=kind, name=name, value=value)
    hours = Rule.objects.create(plan=hospital_plan, name="每月管理培训学时", counts_credits=False)
    Consequence.objects.create(rule=hours, applies_to="non_compliant", kind="percent", name="科室奖金",
                               value=-5, level="department")
    quarterly = Rule.objects.create(plan=hospital_plan, name="季度优秀科室评选", window="quarter", counts_credits=False)
    Consequence.objects.create(rule=quarterly, applies_to="non_compliant", kind="flag", name="优秀科室评选资格",
                               level="department")
    Consequence.objects.create(rule=quarterly, applies_to="non_compliant", kind="percent", name="季度考核",
                               value=-10)


def _history(rng, now, months, tech_plan, tech_courses, hospital_videos, meetings, strategy, segment, sepsis, quiz):
    managers = list(Employee.objects.filter(level=Level.MANAGER, department__path__startswith=Department.objects.get(
        code="TECH").path))
    heads = list(Employee.objects.filter(level=Level.DEPARTMENT_HEAD))
    for index, month in enumerate(months):
        current = index == len(months) - 1
        for manager in managers:
            share = rng.random()
            finished = 2 if share < (0.45 if current else 0.8) else (1 if share < 0.9 else 0)
            for number, item in enumerate(tech_courses[index]):
                moment = _moment(rng, month, now)
                if moment is None:
                    continue
                seconds = item.duration_seconds if number < finished else rng.randint(1, 3) * HOUR // 2
                record_credited_time(employee=manager, course=item, seconds=seconds, occurred_at=moment)
            if finished == 2:
                moment = _moment(rng, month, now)
                assignment = Assignment.objects.filter(employee=manager, period__plan=tech_plan,
                                                       period__starts_at__lte=moment,
                                                       period__ends_at__gt=moment).first() if moment else None
                if assignment is not None:
                    reflection = plan_services.reflection_save(
                        assignment=assignment, text=REFLECTION.format(course=tech_courses[index][0].title),
                        submit=True, now=moment)
                    if index == 0:
                        plan_services.reflection_review(actor=None, reflection=reflection, accept=True,
                                                        comment="", now=moment + dt.timedelta(days=2))
        for head in heads:
            diligent = rng.random() < (0.5 if current else 0.85)
            for item in hospital_videos[index]:
                moment = _moment(rng, month, now)
                if moment is None or (not diligent and rng.random() < 0.5):
                    continue
                record_credited_time(employee=head, course=item, seconds=item.duration_seconds, occurred_at=moment,
                                     source=Source.TRACKING)
            for meeting in meetings[index]:
                if meeting.starts_at >= now or (not diligent and rng.random() < 0.5):
                    continue
                # Most arrive a few minutes early; some are late.
                offset = rng.randint(6, 20) if rng.random() < 0.1 else -rng.randint(1, 14)
                scanned = meeting.starts_at + dt.timedelta(minutes=offset)
                checkin_services.scan(meeting=meeting, employee=head, mode=checkin_services.IN, scanned_at=scanned,
                                      via="scan", device_id=f"demo-phone-{head.pk}", now=scanned)
            if rng.random() < 0.3:
                moment = _moment(rng, month, now)
                if moment is not None and not sepsis.completions.filter(employee=head).exists():
                    record_credited_time(employee=head, course=sepsis, seconds=HOUR, occurred_at=moment)

    # "战略管理": viewers stop after about half of the 60 minutes; the 15-minute segment does better.
    choices = {q.pk: {c.pk for c in q.choices.all() if c.is_correct} for q in quiz.questions.all()}
    for manager in managers[:40]:
        moment = _moment(rng, months[-2], now)
        record_credited_time(employee=manager, course=strategy, seconds=min(max(int(rng.gauss(30, 8) * 60), 60), HOUR),
                             occurred_at=moment)
        if rng.random() < 0.85:
            moment = _moment(rng, months[-1], now) or _moment(rng, months[-2], now)
            record_credited_time(employee=manager, course=segment, seconds=segment.duration_seconds, occurred_at=moment)
            submit_quiz(employee=manager, quiz=quiz, answers=choices, at=moment + dt.timedelta(minutes=20))

    # The history was credited without a player: say that each person watched from the start,
    # so that the viewing pages and the retention of each video show what the figures say.
    for progress in CourseProgress.objects.filter(course__kind=CourseKind.VIDEO).select_related("course"):
        covered = min(progress.credited_ms, progress.course.duration_seconds * 1000)
        progress.intervals = [[0, covered]] if covered else []
        progress.covered_ms = progress.played_ms = covered
        progress.last_position_ms = covered
        progress.save(update_fields=["intervals", "covered_ms", "played_ms", "last_position_ms"])
