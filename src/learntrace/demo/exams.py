"""The hospital's compliance exam: a question bank on the compliance handbook, a timed exam of
its questions with one retake, the results of a few people in internal medicine (passes, a fail,
a pass on the retake) and the certificates they earned. The head of internal medicine passed a
year ago, so his certificate expires in 30 days: its reminder is due today. Everything is written
through the exams' and certificates' services, so the results and certificates are sealed facts."""

import datetime as dt

from learntrace.catalog.models import Category
from learntrace.certificates import services as certificates
from learntrace.certificates.models import CertificateKind
from learntrace.core.months import local_date, local_zone
from learntrace.exams import services as exams
from learntrace.exams.models import BankQuestion, Exam, ExamItem, QuestionBank, QuestionKind
from learntrace.notify.models import Channel
from learntrace.org.models import Employee, Level

# (question, options with the right ones marked) for choice questions; (statement, true?) for true/false.
QUESTIONS = [
    ("医务人员收受患者及其亲属红包，应如何处理？",
     [("婉言谢绝，无法谢绝的及时上交医院", True), ("数额较小可以收下", False), ("术后收下不算违规", False)]),
    ("患者病历资料可以在以下哪种情况下复印提供？",
     [("患者本人或其委托代理人按规定申请", True), ("任何来电询问的人", False), ("医药代表要求", False)]),
    ("发现医疗安全（不良）事件后，应当在多长时间内上报？",
     [("按医院规定的时限及时上报", True), ("等患者投诉后再报", False), ("无需上报", False)]),
    ("医疗机构工作人员可以向医药企业推荐患者购买指定药品并收取提成。", False),
    ("使用患者信息开展教学或研究，应按规定取得授权并去除可识别信息。", True),
]
# Who sat the exam (the demo's "head" account, then people of internal medicine by number), and how:
# each sitting's days before now (None: a year ago less 30 days) and whether every answer was right.
SITTINGS = [
    [(None, True)],  # the head: his certificate expires in 30 days
    [(12, True)],
    [(10, False), (6, True)],  # failed, passed the retake
    [(9, False)],  # failed, one attempt left
    [(5, True)],
]


def _answers(sitting, right: bool) -> dict:
    """The answers one person gave: all right, or every choice question wrong (a fail)."""
    given = {}
    for entry, question, choices in exams.questions_of(sitting):
        if question.kind == QuestionKind.TRUE_FALSE:
            given[str(entry["q"])] = "true" if question.answers[0] else "false"
        else:
            picked = [choice.pk for choice in choices if choice.is_correct == right]
            given[str(entry["q"])] = [picked[0]]
    return given


def load_exams(now: dt.datetime) -> None:
    compliance = Category.objects.get(code="compliance")
    bank = QuestionBank.objects.create(name="医疗合规题库", category=compliance,
                                       description="年度考试的题目，随手册每年更新。")
    questions = []
    for text, answer in QUESTIONS:
        if isinstance(answer, list):
            question = BankQuestion(bank=bank, kind=QuestionKind.SINGLE, text=text)
            exams.save_question(actor=None, question=question, choices=answer)
        else:
            question = BankQuestion(bank=bank, kind=QuestionKind.TRUE_FALSE, text=text, answers=[answer])
            exams.save_question(actor=None, question=question, choices=[])
        questions.append(question)
    exam = Exam.objects.create(
        title="年度医疗合规考试", description="学完《医疗合规手册》后参加，80 分及格，可补考一次。",
        time_limit_minutes=20, pass_mark=80, attempts_allowed=2, leave_limit=3, is_published=True)
    ExamItem.objects.bulk_create([ExamItem(exam=exam, question=question, position=position, points=20)
                                  for position, question in enumerate(questions)])
    kind = CertificateKind.objects.create(title="医疗合规培训合格证书", exam=exam, valid_months=12,
                                          remind_days_before=[30, 7], remind_heads=True)
    kind.channels.set(Channel.objects.filter(is_active=True))

    head = Employee.objects.get(employee_no="H-IM-00")
    people = [head, *Employee.objects.filter(department__path__startswith=head.department.path,
                                             level=Level.STAFF).order_by("employee_no")[:len(SITTINGS) - 1]]
    today = local_date(now)
    # A year ago less 30 days, at 10:00: the certificate's twelve months end 30 days from today.
    a_year_ago = certificates.add_months(
        dt.datetime.combine(today + dt.timedelta(days=30), dt.time(10, 0), tzinfo=local_zone()), -12)
    for person, sittings in zip(people, SITTINGS, strict=True):
        for days_before, right in sittings:
            started = a_year_ago if days_before is None else dt.datetime.combine(
                today - dt.timedelta(days=days_before), dt.time(15, 0), tzinfo=local_zone())
            sitting = exams.start(exam=exam, employee=person, now=started)
            exams.submit(sitting=sitting, answers=_answers(sitting, right), now=started + dt.timedelta(minutes=14))
    # The results' own signal issues certificates once the demo commits; issued here so they are sealed with it.
    # The expiry reminder is the worker's (every 15 minutes from 09:00), as for any certificate.
    certificates.issue_due()

