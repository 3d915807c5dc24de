"""Sitting an exam through the services: grading, the server's deadline, leaving the page,
attempts, the random draw and the sealed result — and what a cheating client tries."""

import datetime as dt

import pytest

from exam_fixtures import all_right, choice_question, make_exam_centre
from learntrace.evidence import services as evidence
from learntrace.exams import services
from learntrace.exams.models import BankQuestion, Exam, ExamResult, ExamRule, QuestionBank, ResultAnswer, Sitting
from learntrace.exams.services import Refused

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def centre(org, catalog):
    return make_exam_centre(catalog.management)


def refused(code, call, **kwargs):
    with pytest.raises(Refused) as caught:
        call(**kwargs)
    assert caught.value.code == code


def test_all_right_scores_100_and_writes_one_line_per_question(centre, org):
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    assert sitting.number == 1 and sitting.deadline == T0 + dt.timedelta(minutes=30)
    result = services.submit(sitting=sitting, answers=all_right(centre), now=T0 + dt.timedelta(minutes=5))
    assert (result.points, result.max_points, result.score, result.passed, result.ending) == (5, 5, 100, True,
                                                                                             "submitted")
    assert result.submitted_at == T0 + dt.timedelta(minutes=5)
    assert sorted(ResultAnswer.objects.filter(result=result).values_list("question_id", "correct")) == sorted(
        (q.pk, True) for q in (centre.single, centre.multiple, centre.truth, centre.blank))


def test_a_choice_question_needs_every_correct_option_and_no_other(centre, org):
    answers = all_right(centre)
    answers[str(centre.multiple.pk)] = [centre.multiple_choices[0].pk]  # one of two: wrong, 2 points lost
    result = services.submit(sitting=services.start(exam=centre.exam, employee=org.learner, now=T0),
                             answers=answers, now=T0)
    assert (result.points, result.score, result.passed) == (3, 60, True)
    answers[str(centre.truth.pk)] = "false"
    result = services.submit(sitting=services.start(exam=centre.exam, employee=org.outsider, now=T0),
                             answers=answers, now=T0)
    assert (result.points, result.score, result.passed) == (2, 40, False)


def test_answers_after_the_deadline_are_refused_and_the_sitting_ends_with_those_saved_in_time(centre, org):
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    services.save_answers(sitting=sitting, answers={str(centre.single.pk): [centre.single_choices[1].pk]},
                          now=sitting.deadline)  # at the deadline itself: still in time
    late = sitting.deadline + dt.timedelta(seconds=1)
    refused("time_up", services.submit, sitting=sitting, answers=all_right(centre), now=late)
    result = ExamResult.objects.get(sitting=sitting)
    assert (result.ending, result.points, result.score, result.submitted_at) == ("time_up", 1, 20, sitting.deadline)
    assert result.answers == {str(centre.single.pk): [centre.single_choices[1].pk]}
    refused("ended", services.save_answers, sitting=sitting, answers={}, now=late)


def test_a_late_save_ends_the_sitting_too(centre, org):
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    refused("time_up", services.save_answers, sitting=sitting, answers=all_right(centre),
            now=T0 + dt.timedelta(minutes=31))
    assert ExamResult.objects.get(sitting=sitting).points == 0


def test_an_answer_for_a_question_not_drawn_refuses_the_whole_request(centre, org):
    other = BankQuestion.objects.create(bank=centre.bank, kind="true_false", text="Not on the paper", answers=[True])
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    answers = {str(centre.truth.pk): "true", str(other.pk): "true"}
    refused("not_drawn", services.save_answers, sitting=sitting, answers=answers, now=T0)
    refused("not_drawn", services.submit, sitting=sitting, answers=answers, now=T0)
    sitting.refresh_from_db()
    assert sitting.answers == {} and sitting.ended_at is None  # nothing of the request was kept


@pytest.mark.parametrize("bad", ["other question's option", "two options for a single choice", "not a number",
                                 "truth as text", "long text"])
def test_answers_that_do_not_fit_the_question_are_refused(centre, org, bad):
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    answers = {
        "other question's option": {str(centre.single.pk): [centre.multiple_choices[0].pk]},
        "two options for a single choice": {str(centre.single.pk): [c.pk for c in centre.single_choices[:2]]},
        "not a number": {str(centre.multiple.pk): ["1; DROP TABLE"]},
        "truth as text": {str(centre.truth.pk): "yes"},
        "long text": {str(centre.blank.pk): "1" * 501},
    }[bad]
    refused("bad_answer", services.save_answers, sitting=sitting, answers=answers, now=T0)
    sitting.refresh_from_db()
    assert sitting.answers == {}


def test_leaving_the_page_past_the_limit_submits_the_exam(centre, org):
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    services.save_answers(sitting=sitting, answers=all_right(centre), now=T0)
    assert services.page_left(sitting=sitting, now=T0).hidden_count == 1
    assert services.page_left(sitting=sitting, now=T0).ended_at is None  # twice is the limit
    third = services.page_left(sitting=sitting, now=T0 + dt.timedelta(minutes=1))
    assert third.ending == "left_page" and third.ended_at == T0 + dt.timedelta(minutes=1)
    result = ExamResult.objects.get(sitting=sitting)
    assert (result.ending, result.hidden_count, result.score) == ("left_page", 3, 100)
    refused("ended", services.page_left, sitting=sitting, now=T0)
    refused("ended", services.submit, sitting=sitting, answers={}, now=T0)


def test_a_second_submission_is_refused_and_changes_nothing(centre, org):
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    services.submit(sitting=sitting, answers={}, now=T0)
    refused("ended", services.submit, sitting=sitting, answers=all_right(centre), now=T0)
    assert list(ExamResult.objects.filter(sitting=sitting).values_list("score", flat=True)) == [0]


def test_attempts_run_out_and_a_passed_exam_takes_no_more(centre, org):
    for number in (1, 2):
        sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
        assert sitting.number == number
        assert services.start(exam=centre.exam, employee=org.learner, now=T0) == sitting  # resumed, not new
        services.submit(sitting=sitting, answers={}, now=T0)
    refused("no_attempts", services.start, exam=centre.exam, employee=org.learner, now=T0)
    services.submit(sitting=services.start(exam=centre.exam, employee=org.outsider, now=T0),
                    answers=all_right(centre), now=T0)
    refused("passed", services.start, exam=centre.exam, employee=org.outsider, now=T0)


def test_an_exam_outside_its_window_or_unpublished_cannot_be_started(centre, org):
    Exam.objects.filter(pk=centre.exam.pk).update(opens_at=T0 + dt.timedelta(hours=1))
    centre.exam.refresh_from_db()
    refused("not_open", services.start, exam=centre.exam, employee=org.learner, now=T0)
    Exam.objects.filter(pk=centre.exam.pk).update(opens_at=None, is_published=False)
    centre.exam.refresh_from_db()
    refused("not_open", services.start, exam=centre.exam, employee=org.learner, now=T0)


def test_the_deadline_is_the_closing_time_when_that_comes_first(centre, org):
    Exam.objects.filter(pk=centre.exam.pk).update(closes_at=T0 + dt.timedelta(minutes=10))
    centre.exam.refresh_from_db()
    assert services.start(exam=centre.exam, employee=org.learner, now=T0).deadline == T0 + dt.timedelta(minutes=10)


def test_sittings_whose_client_disappeared_are_submitted_at_their_deadline(centre, org):
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    services.save_answers(sitting=sitting, answers=all_right(centre), now=T0)
    other = services.start(exam=centre.exam, employee=org.outsider, now=T0 + dt.timedelta(minutes=10))
    assert services.close_overdue(T0 + dt.timedelta(minutes=31)) == 1
    assert services.close_overdue(T0 + dt.timedelta(minutes=31)) == 0
    result = ExamResult.objects.get(sitting=sitting)
    assert (result.ending, result.score, result.passed, result.submitted_at) == ("time_up", 100, True,
                                                                                 sitting.deadline)
    other.refresh_from_db()
    assert other.ended_at is None


def test_options_are_shuffled_per_sitting_as_a_permutation(centre, org):
    sitting = services.start(exam=centre.exam, employee=org.learner, now=T0)
    by_question = {entry["q"]: entry["c"] for entry in sitting.paper}
    assert sorted(by_question[centre.single.pk]) == sorted(c.pk for c in centre.single_choices)
    assert by_question[centre.truth.pk] == [] and [entry["p"] for entry in sitting.paper] == [1, 2, 1, 1]
    Exam.objects.filter(pk=centre.exam.pk).update(shuffle_choices=False)
    centre.exam.refresh_from_db()
    fixed = services.start(exam=centre.exam, employee=org.outsider, now=T0)
    assert {e["q"]: e["c"] for e in fixed.paper}[centre.single.pk] == [c.pk for c in centre.single_choices]


def test_a_random_paper_draws_each_rule_by_category_and_difficulty(centre, org, catalog):
    clinical = QuestionBank.objects.create(name="Sepsis", category=catalog.clinical)
    hard = {choice_question(clinical, f"Hard {n}", ["a", "b"], {0}, difficulty=3)[0].pk for n in range(5)}
    easy = {choice_question(clinical, f"Easy {n}", ["a", "b"], {0}, difficulty=1)[0].pk for n in range(3)}
    exam = Exam.objects.create(title="Sepsis", mode=Exam.Mode.RANDOM, is_published=True, attempts_allowed=1)
    ExamRule.objects.create(exam=exam, category=catalog.clinical, difficulty=3, count=2, points=3)
    ExamRule.objects.create(exam=exam, category=catalog.clinical, difficulty=None, count=6, points=1)
    paper = services.start(exam=exam, employee=org.learner, now=T0).paper
    drawn = [entry["q"] for entry in paper]
    assert len(drawn) == len(set(drawn)) == 8 and set(drawn) == hard | easy  # no question twice
    worth_three = {entry["q"] for entry in paper if entry["p"] == 3}
    assert len(worth_three) == 2 and worth_three <= hard
    ExamRule.objects.filter(exam=exam, difficulty=3).update(count=6)
    refused("short_bank", services.start, exam=exam, employee=org.outsider, now=T0)
    assert not Sitting.objects.filter(employee=org.outsider).exists()


def test_question_statistics_count_shown_and_right(centre, org):
    answers = all_right(centre)
    services.submit(sitting=services.start(exam=centre.exam, employee=org.learner, now=T0), answers=answers, now=T0)
    answers[str(centre.single.pk)] = [centre.single_choices[0].pk]
    services.submit(sitting=services.start(exam=centre.exam, employee=org.outsider, now=T0), answers=answers, now=T0)
    stats = {q.pk: (q.shown, q.right, services.correct_rate(q))
             for q in services.question_stats(BankQuestion.objects.filter(bank=centre.bank))}
    assert stats[centre.single.pk] == (2, 1, 50) and stats[centre.truth.pk] == (2, 2, 100)


@pytest.mark.django_db(transaction=True)
def test_a_result_is_sealed_in_the_evidence_and_verifies(org, catalog):
    centre = make_exam_centre(catalog.management)
    result = services.submit(sitting=services.start(exam=centre.exam, employee=org.learner, now=T0),
                             answers=all_right(centre), now=T0)
    evidence.seal_pending()
    assert evidence.seal_of(8, result.pk) is not None
    assert evidence.verify_fact(8, result.pk) is True
    assert evidence.verify().ok
