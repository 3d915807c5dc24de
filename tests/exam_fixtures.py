"""A small exam centre for tests: one bank of the management category with one question of each
kind, and a published fixed paper of them (30 minutes, pass mark 60 %, 2 attempts, page left at
most twice)."""

from types import SimpleNamespace

from learntrace.exams.models import BankChoice, BankQuestion, Exam, ExamItem, QuestionBank


def choice_question(bank, text, options, correct, kind="single", difficulty=2):
    question = BankQuestion.objects.create(bank=bank, kind=kind, text=text, difficulty=difficulty)
    choices = [BankChoice.objects.create(question=question, position=n, text=option, is_correct=n in correct)
               for n, option in enumerate(options)]
    return question, choices


def make_exam_centre(category):
    bank = QuestionBank.objects.create(name="Ward safety", category=category)
    single, single_choices = choice_question(bank, "Which hand rub time is enough?", ["5 s", "20 s", "2 s"], {1})
    multiple, multiple_choices = choice_question(bank, "Which are PPE?", ["Gloves", "Mask", "Pen"], {0, 1},
                                                 kind="multiple")
    truth = BankQuestion.objects.create(bank=bank, kind="true_false", text="Sharps go in the yellow box.",
                                        answers=[True])
    blank = BankQuestion.objects.create(bank=bank, kind="fill_in", text="The emergency number is ___.",
                                        answers=["120", "一二零"])
    exam = Exam.objects.create(title="Ward safety exam", mode=Exam.Mode.FIXED, time_limit_minutes=30,
                               pass_mark=60, attempts_allowed=2, leave_limit=2, is_published=True)
    for position, question in enumerate([single, multiple, truth, blank]):
        ExamItem.objects.create(exam=exam, question=question, position=position, points=1 + (position == 1))
    return SimpleNamespace(bank=bank, exam=exam, single=single, single_choices=single_choices, multiple=multiple,
                           multiple_choices=multiple_choices, truth=truth, blank=blank)


def all_right(centre) -> dict:
    return {str(centre.single.pk): [centre.single_choices[1].pk],
            str(centre.multiple.pk): [centre.multiple_choices[0].pk, centre.multiple_choices[1].pk],
            str(centre.truth.pk): "true", str(centre.blank.pk): " １２０ "}
