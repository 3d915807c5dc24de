"""Every reader sees the facts as corrections left them: a voided completion and corrected time
count nowhere, whichever page, report or file reads them."""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from learntrace.api.exports import completions_of_year
from learntrace.compliance import services as compliance
from learntrace.compliance.models import Standing
from learntrace.plans import services as plan_services
from learntrace.plans.models import Assignment, PlanItem
from learntrace.plans.progress import FIGURE_NAMES, progress_for
from learntrace.records import effective
from learntrace.records.models import Completion, CreditedTime
from learntrace.records.services import correct_time, record_credited_time, void_completion
from learntrace.reports import selectors as reports
from test_plans import HOUR, at, hospital_plan

EVERYONE = reports.Scope(everyone=True)


@pytest.fixture(autouse=True)
def march():
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        yield


def watched_and_voided(org, catalog):
    """The learner watched "Sepsis update" to the end on 3 March; an admin then voids the completion."""
    fact = record_credited_time(employee=org.learner, course=catalog.clinical_video, seconds=HOUR,
                                occurred_at=at(2026, 3, 3, 10))
    completion = Completion.objects.get(employee=org.learner, course=catalog.clinical_video)
    return fact, completion


def void(org, completion):
    void_completion(actor=org.admin.user, completion=completion, reason="Watched by a colleague")


def test_course_states_are_the_credited_time_exactly_when_nothing_was_corrected(org, catalog):
    record_credited_time(employee=org.learner, course=catalog.video, seconds=1000, occurred_at=at(2026, 3, 2))
    fact, completion = watched_and_voided(org, catalog)
    correct_time(actor=org.admin.user, fact=fact, seconds_delta=-60, reason="Left the room")
    states = {row.course_id: row for row in effective.course_states()}
    untouched, corrected = states[catalog.video.pk], states[catalog.clinical_video.pk]
    assert (untouched.effective_credited_ms, untouched.effective_completed_at) == (1_000_000, None)
    assert (corrected.effective_credited_ms, corrected.effective_completed_at) == (3_540_000, at(2026, 3, 3, 10))
    void(org, completion)
    corrected = effective.course_states().get(course=catalog.clinical_video)
    assert (corrected.effective_credited_ms, corrected.effective_completed_at) == (3_540_000, None)
    assert list(effective.completions()) == [] and effective.course_states().filter(
        effective.completed_states()).count() == 0
    meeting = record_credited_time(employee=org.head, course=catalog.meeting, seconds=60, occurred_at=at(2026, 3, 4))
    correct_time(actor=org.admin.user, fact=meeting, seconds_delta=-60, reason="Not there")
    assert effective.course_states().get(employee=org.head).effective_credited_ms == 0


def test_credited_time_counts_where_it_happened_by_person_kind_and_year(org, catalog):
    zone = ZoneInfo("Asia/Shanghai")
    times = [(catalog.video, 600, at(2026, 1, 1, 0)), (catalog.video, 60, at(2025, 12, 31, 23, 59)),
             (catalog.meeting, 7200, at(2026, 3, 1, 9)), (catalog.clinical_video, 30, at(2026, 3, 31, 23, 59))]
    facts = [record_credited_time(employee=org.learner, course=course, seconds=seconds, occurred_at=when)
             for course, seconds, when in times]
    correct_time(actor=org.admin.user, fact=facts[2], seconds_delta=-7200, reason="Not there")
    correct_time(actor=org.admin.user, fact=facts[0], seconds_delta=-600, reason="Not watched")
    correct_time(actor=org.admin.user, fact=facts[0], seconds_delta=120, reason="Watched half of it on paper")
    everything = effective.credited_time(employee_ids=[org.learner.pk, org.head.pk])
    assert everything.seconds == {(org.learner.pk, "video"): 210, (org.learner.pk, "offline"): 0}
    assert everything.last_at == {org.learner.pk: at(2026, 3, 31, 23, 59)}
    by_year = effective.credited_time(employee_ids=[org.learner.pk], zone=zone)
    assert by_year.seconds == {(org.learner.pk, 2025, "video"): 60, (org.learner.pk, 2026, "video"): 150,
                               (org.learner.pk, 2026, "offline"): 0}
    # A period takes its first moment and not its end; a category narrows facts and corrections alike.
    january = effective.credited_time(employee_ids=[org.learner.pk], starts_at=at(2026, 1, 1),
                                      ends_at=at(2026, 3, 1, 9))
    assert (january.seconds, january.last_at) == ({(org.learner.pk, "video"): 120}, {org.learner.pk: at(2026, 1, 1)})
    clinical = effective.credited_time(employee_ids=[org.learner.pk], category_ids=[catalog.clinical.pk])
    assert (clinical.seconds, clinical.last_at) == ({(org.learner.pk, "video"): 30},
                                                    {org.learner.pk: at(2026, 3, 31, 23, 59)})
    assert effective.credited_time(employee_ids=[org.head.pk]).seconds == {}


def test_the_last_credited_time_is_the_latest_fact_that_credited_a_second_or_more(org, catalog):
    video = catalog.video
    record_credited_time(employee=org.head, course=video, seconds=600, occurred_at=at(2026, 1, 5))
    record_credited_time(employee=org.head, course=video, seconds=1, occurred_at=at(2026, 1, 6))
    CreditedTime.objects.create(employee=org.head, course=video, kind=video.kind, category=video.category, seconds=0,
                                occurred_at=at(2026, 1, 7), source="tracking")  # a beat that replayed what was watched
    totals = effective.credited_time(employee_ids=[org.head.pk])
    assert (totals.seconds, totals.last_at) == ({(org.head.pk, "video"): 601}, {org.head.pk: at(2026, 1, 6)})


def test_a_period_whose_corrections_exceed_its_time_counts_zero(org, catalog):
    january = record_credited_time(employee=org.head, course=catalog.video, seconds=60, occurred_at=at(2026, 1, 5))
    record_credited_time(employee=org.head, course=catalog.video, seconds=600, occurred_at=at(2026, 2, 5))
    correct_time(actor=org.admin.user, fact=january, seconds_delta=-300, reason="Counted twice")
    totals = effective.credited_time(employee_ids=[org.head.pk], starts_at=at(2026, 1, 1), ends_at=at(2026, 2, 1))
    assert totals.seconds == {(org.head.pk, "video"): 0}
    assert effective.credited_time(employee_ids=[org.head.pk]).seconds == {(org.head.pk, "video"): 360}


def test_a_voided_completion_disappears_from_course_analytics(org, catalog):
    _fact, completion = watched_and_voided(org, catalog)
    [before] = reports.course_analytics(EVERYONE, reports.Filters())
    assert (before.viewers, before.completed, before.completion_percent) == (1, 1, 100.0)
    assert reports.course_progress(EVERYONE, reports.Filters(status=reports.COMPLETE)).count() == 1
    void(org, completion)
    [after] = reports.course_analytics(EVERYONE, reports.Filters())
    assert (after.viewers, after.completed, after.completion_percent) == (1, 0, 0.0)
    assert reports.course_progress(EVERYONE, reports.Filters(status=reports.COMPLETE)).count() == 0
    assert reports.course_progress(EVERYONE, reports.Filters(status=reports.INCOMPLETE)).count() == 1


def test_corrected_time_is_the_credited_time_of_course_analytics(org, catalog):
    fact, _completion = watched_and_voided(org, catalog)
    correct_time(actor=org.admin.user, fact=fact, seconds_delta=-HOUR // 4, reason="Left the room")
    [figures] = reports.course_analytics(EVERYONE, reports.Filters())
    assert figures.avg_credited_seconds == 2700.0


def test_a_voided_completion_is_gone_from_the_viewing_pages(org, catalog, client_for):
    _fact, completion = watched_and_voided(org, catalog)
    admin = client_for(org.admin)
    learners = reverse("tracking:course_learners", args=[catalog.clinical_video.pk])
    detail = reverse("tracking:learner_detail", args=[catalog.clinical_video.pk, org.learner.pk])

    def learner_row():
        text = admin.get(learners).text
        return text[text.index('data-employee="E001"'):].split("</tr>")[0]

    assert "<td>2026-03-03 10:00</td><td>0</td>" in learner_row()
    assert "<dt>completed</dt><dd>2026-03-03 10:00</dd>" in admin.get(detail).text
    void(org, completion)
    assert "<td>—</td><td>0</td>" in learner_row()
    assert "<dt>completed</dt><dd>—</dd>" in admin.get(detail).text


def test_a_voided_completion_is_not_shown_as_completed_on_the_course_page(org, catalog, client_for):
    _fact, completion = watched_and_voided(org, catalog)
    learner = client_for(org.learner)
    page = reverse("catalog:course", args=[catalog.clinical_video.pk])

    def my_progress():
        text = learner.get(page).text
        return text[text.index('id="my-progress"'):].split("</div>")[0]

    assert '<span class="badge good">completed</span> 2026-03-03 10:00' in my_progress()
    void(org, completion)
    # The whole hour is still credited; only the completion is gone.
    assert "In progress: 100 % of the course credited (1.0 h), completed at 95 %" in my_progress()
    assert "badge good" not in my_progress()


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_voided_completion_leaves_the_transcript_and_the_credits_export(org, catalog, client_for):
    _fact, completion = watched_and_voided(org, catalog)
    transcript = reverse("trainingfile:transcript", args=[org.learner.pk])
    admin = client_for(org.admin)
    assert "Sepsis update" in pdf_text(admin.get(transcript, {"lang": "en"}).content)
    assert list(completions_of_year(2026, only_new=False)) == [completion]
    void(org, completion)
    assert "Sepsis update" not in pdf_text(admin.get(transcript, {"lang": "en"}).content)
    assert list(completions_of_year(2026, only_new=False)) == []
    # The training file page still lists it, struck through with the reason.
    assert "<s>Sepsis update</s>" in admin.get(reverse("trainingfile:file", args=[org.learner.pk])).text


def test_the_standing_holds_exactly_the_calculators_figures_after_a_void(org, catalog):
    plan = hospital_plan(org, catalog, audience_levels=[])
    PlanItem.objects.create(plan=plan, course=catalog.clinical_video)
    plan_services.publish_plan(actor=None, plan=plan)
    fact, completion = watched_and_voided(org, catalog)
    record_credited_time(employee=org.learner, course=catalog.video, seconds=2 * HOUR, occurred_at=at(2026, 3, 4))
    correct_time(actor=org.admin.user, fact=fact, seconds_delta=-HOUR // 2, reason="Half of it was a colleague")
    compliance.refresh_changed()
    standing = Standing.objects.get(employee=org.learner, period__starts_at=at(2026, 3, 1))
    assert (standing.required_done, standing.credits, standing.video_seconds) == (1, Decimal("5.00"), 2 * HOUR)
    void(org, completion)
    compliance.refresh_changed()
    standing.refresh_from_db()
    assignment = Assignment.objects.select_related("period__plan").get(pk=standing.assignment_id)
    [progress] = progress_for([assignment])
    assert {name: getattr(standing, name) for name in FIGURE_NAMES} == vars(progress.figures)
    # Sepsis is a clinical course: the plan counts management time only, so its corrected time is not here.
    assert (standing.required_total, standing.required_done, standing.video_seconds) == (1, 0, 2 * HOUR)
    assert (standing.credits, standing.credits_year) == (Decimal("0.00"), Decimal("0.00"))
    assert {"what": "course", "course_id": catalog.clinical_video.pk, "title": "Sepsis update"} in standing.missing


def test_the_standing_columns_are_the_calculators_figures():
    identity = {"id", "assignment", "plan", "period", "employee", "department", "department_path",
                "period_starts_at", "joined_at", "removed_at", "refreshed_at", "frozen_at"}
    outcome = set(compliance.OUTCOME)
    columns = [f.name for f in Standing._meta.get_fields() if f.concrete]
    assert [c for c in columns if c not in identity | outcome] == list(FIGURE_NAMES)


def test_corrected_time_counts_in_the_training_file_year(org, catalog, client_for):
    fact = record_credited_time(employee=org.learner, course=catalog.meeting, seconds=2 * HOUR,
                                occurred_at=at(2026, 3, 2), source="checkin")
    correct_time(actor=org.admin.user, fact=fact, seconds_delta=-HOUR, reason="Left after one hour")
    from learntrace.trainingfile.selectors import training_file

    [(year, kinds, total, _credits)] = training_file(org.learner).years
    assert (year, kinds, total) == (2026, {"offline": HOUR}, HOUR)
    assert dt.date(2026, 3, 2).year == year
