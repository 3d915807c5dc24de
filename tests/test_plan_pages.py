"""Plans through their pages: the admin's plan form, "my learning", team progress,
reflections, and the role boundaries around them."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from learntrace.org.models import Level
from learntrace.plans.models import Assignment, LearningPlan, PeriodType, PlanCreditTarget, Reflection
from learntrace.records.services import record_credited_time
from test_plans import HOUR, at, hospital_plan

NOW = at(2026, 3, 10, 9)


@pytest.fixture(autouse=True)
def march():
    with time_machine.travel(NOW, tick=False):
        yield


def plan_form(org, catalog, **overrides):
    data = {
        "name": "科室主任月度管理培训", "description": "", "period_type": "monthly", "starts_on": "2026-03-01",
        "ends_on": "", "due_day": "25", "departments_with_subtree": [str(org.root.pk)], "departments_only": [],
        "levels": ["department_head"], "positions": "", "tags": "", "named_people": "",
        "required_courses": [], "min_total_hours": "8", "min_video_hours": "4", "min_document_hours": "",
        "min_offline_hours": "4", "min_live_hours": "", "counted_categories": [str(catalog.management.pk)],
        "reflection_min_chars": "0",
        "credits-TOTAL_FORMS": "2", "credits-INITIAL_FORMS": "0", "credits-MIN_NUM_FORMS": "0",
        "credits-MAX_NUM_FORMS": "10",
        "credits-0-credit_class": "", "credits-0-category": "", "credits-0-min_credits": "25",
        "credits-1-credit_class": "", "credits-1-category": str(catalog.management.pk), "credits-1-min_credits": "5",
    }
    data.update(overrides)
    return data


def test_the_admin_builds_and_publishes_the_hospital_plan(org, client_for, catalog):
    client = client_for(org.admin)
    response = client.post(reverse("plans:plan_new"), plan_form(org, catalog))
    assert response.status_code == 302, response.text
    plan = LearningPlan.objects.get()
    assert (plan.min_total_seconds, plan.min_video_seconds, plan.min_offline_seconds) == (8 * HOUR, 4 * HOUR, 4 * HOUR)
    assert plan.audience_levels == ["department_head"] and plan.status == LearningPlan.Status.DRAFT
    assert sorted(t.min_credits for t in PlanCreditTarget.objects.filter(plan=plan)) == [5, 25]
    client.post(reverse("plans:plan_publish", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == LearningPlan.Status.PUBLISHED
    assert list(Assignment.objects.values_list("employee_id", flat=True)) == [org.head.pk]
    # Changing the audience of a published plan updates the open period at once.
    client.post(reverse("plans:plan_edit", args=[plan.pk]), plan_form(
        org, catalog, levels=["department_head", "manager"], **{"credits-INITIAL_FORMS": "0"}))
    assert set(Assignment.objects.values_list("employee_id", flat=True)) == {org.head.pk, org.learner.pk}


@pytest.mark.parametrize("overrides,message", [
    ({"min_total_hours": "-8"}, "greater than or equal to 0"),
    ({"due_day": "32"}, "less than or equal to 31"),
    ({"due_day": ""}, "needs a due day"),
    ({"period_type": "one_off", "ends_on": ""}, "needs an end date"),
    ({"period_type": "one_off", "ends_on": "2026-02-01"}, "before the start date"),
    ({"named_people": "NOBODY-1"}, "NOBODY-1"),
    ({"credits-0-min_credits": "-3"}, "cannot be negative"),
    ({"credits-1-min_credits": ""}, "minimum number of credits"),
    ({"starts_on": "2026-02-30"}, "valid date"),
])
def test_bad_plan_input_gets_a_clear_error_and_writes_nothing(org, client_for, catalog, overrides, message):
    response = client_for(org.admin).post(reverse("plans:plan_new"), plan_form(org, catalog, **overrides))
    assert response.status_code == 200
    assert message in response.text
    assert not LearningPlan.objects.exists()


def test_a_plan_without_audience_cannot_be_published(org, client_for, catalog):
    client = client_for(org.admin)
    client.post(reverse("plans:plan_new"), plan_form(org, catalog, departments_with_subtree=[], levels=[]))
    plan = LearningPlan.objects.get()
    response = client.post(reverse("plans:plan_publish", args=[plan.pk]), follow=True)
    assert "no audience" in response.text
    plan.refresh_from_db()
    assert plan.status == LearningPlan.Status.DRAFT


def published_hospital_plan(org, catalog, **overrides):
    from learntrace.plans import services

    plan = hospital_plan(org, catalog, starts_on=dt.date(2026, 3, 1), **overrides)
    services.publish_plan(actor=None, plan=plan)
    return plan


def test_my_learning_says_what_is_done_and_owed(org, client_for, catalog):
    published_hospital_plan(org, catalog)
    record_credited_time(employee=org.head, course=catalog.video, seconds=4 * HOUR, occurred_at=at(2026, 3, 2))
    zh = client_for(org.head, language="zh-hans").get(reverse("plans:my")).text
    assert "本月已完成 4.0 小时,还需 4.0 小时" in zh
    en = client_for(org.head).get(reverse("plans:my")).text
    assert "This month: 4.0 h done, 4.0 h to go." in en
    assert "Due 2026-03-25" in en and "15 days left" in en


def test_a_learner_without_plans_sees_an_empty_page(org, client_for, catalog):
    published_hospital_plan(org, catalog)
    text = client_for(org.learner).get(reverse("plans:my")).text
    assert "No learning plan applies right now." in text


def test_the_team_page_is_scoped_to_the_department_subtree(org, client_for, catalog):
    published_hospital_plan(org, catalog, audience_levels=[])
    head_view = client_for(org.head).get(reverse("plans:team")).text
    assert org.learner.name in head_view and org.outsider.name not in head_view
    admin_view = client_for(org.admin).get(reverse("plans:team")).text
    assert org.outsider.name in admin_view
    assert client_for(org.learner).get(reverse("plans:team")).status_code == 403
    assert client_for(org.head).get(reverse("plans:person", args=[org.outsider.pk])).status_code == 404
    assert client_for(org.head).get(reverse("plans:person", args=[org.learner.pk])).status_code == 200


def test_nobody_reads_another_persons_assignment_without_the_right(org, client_for, catalog):
    published_hospital_plan(org, catalog, audience_levels=[])
    theirs = Assignment.objects.get(employee=org.outsider)
    assert client_for(org.learner).get(reverse("plans:assignment", args=[theirs.pk])).status_code == 404
    assert client_for(org.head).get(reverse("plans:assignment", args=[theirs.pk])).status_code == 404
    assert client_for(org.auditor).get(reverse("plans:assignment", args=[theirs.pk])).status_code == 200
    # Only the person writes their reflection, not even an admin.
    response = client_for(org.admin).post(reverse("plans:reflection_save", args=[theirs.pk]), {"text": "x"})
    assert response.status_code == 403


def test_plan_pages_are_for_admins_and_auditors(org, client_for, catalog):
    plan = published_hospital_plan(org, catalog)
    for who in ("learner", "head"):
        client = client_for(getattr(org, who))
        assert client.get(reverse("plans:plans")).status_code == 403
        assert client.get(reverse("plans:plan", args=[plan.pk])).status_code == 403
    auditor = client_for(org.auditor)
    assert auditor.get(reverse("plans:plan", args=[plan.pk])).status_code == 200
    assert auditor.post(reverse("plans:plan_archive", args=[plan.pk])).status_code == 403
    assert auditor.get(reverse("plans:reflections")).status_code == 403


def test_the_reflection_is_written_submitted_and_reviewed_through_the_pages(org, client_for, catalog):
    published_hospital_plan(org, catalog, requires_reflection=True, reflection_min_chars=10)
    assignment = Assignment.objects.get(employee=org.head)
    url = reverse("plans:reflection_save", args=[assignment.pk])
    head = client_for(org.head)
    head.post(url, {"text": "太短", "submit": "1"})
    assert not Reflection.objects.exists()  # too short to submit: refused, nothing written
    head.post(url, {"text": "学习了排班管理和质量控制的方法。", "submit": "1"})
    assert Reflection.objects.get().status == Reflection.Status.SUBMITTED
    reflection = Reflection.objects.get()
    admin = client_for(org.admin)
    assert reflection.text in admin.get(reverse("plans:reflections")).text
    admin.post(reverse("plans:reflection_review", args=[reflection.pk]), {"comment": "请补充", "return": "1"})
    assert Reflection.objects.get().status == Reflection.Status.RETURNED
    page = client_for(org.head).get(reverse("plans:assignment", args=[assignment.pk])).text
    assert "请补充" in page and "Save draft" in page


def test_history_lists_past_periods(org, client_for, catalog):
    with time_machine.travel(at(2026, 1, 10), tick=False):
        plan = hospital_plan(org, catalog, starts_on=dt.date(2026, 1, 1))
        from learntrace.plans import services

        services.publish_plan(actor=None, plan=plan)
    services.roll_over()
    text = client_for(org.head).get(reverse("plans:history")).text
    assert "2026-01" in text and "2026-02" in text and "2026-03" not in text


def test_one_off_plan_in_the_team_view(org, client_for, catalog):
    published_hospital_plan(org, catalog, period_type=PeriodType.ONE_OFF, ends_on=dt.date(2026, 3, 31),
                            audience_levels=[Level.MANAGER])
    text = client_for(org.admin).get(reverse("plans:team")).text
    assert org.learner.name in text and "2026-03-01 – 2026-03-31" in text


def test_the_team_page_reads_the_stored_figures(org, client_for, catalog):
    from learntrace.compliance.services import refresh_changed

    published_hospital_plan(org, catalog, audience_levels=[])
    record_credited_time(employee=org.learner, course=catalog.video, seconds=5 * HOUR, occurred_at=at(2026, 3, 2))
    admin = client_for(org.admin)

    def learner_row():
        text = admin.get(reverse("plans:team")).text
        return text[text.index('data-employee="E001"'):].split("</tr>")[0]

    assert "Not counted yet: the figures appear within a minute." in learner_row()
    refresh_changed()
    row = learner_row()
    assert "<td>5.0 / 8.0</td>" in row and "<td>3.0 <span class=\"badge\">Offline meetings 4.0</span></td>" in row
    assert '<span class="badge bad">incomplete</span>' in row


def test_history_shows_periods_as_they_were_counted_and_judged_at_close(org, client_for, catalog):
    from learntrace.compliance.services import process_periods
    from learntrace.plans import services

    with time_machine.travel(at(2026, 2, 10), tick=False):
        plan = hospital_plan(org, catalog, starts_on=dt.date(2026, 2, 1))
        services.publish_plan(actor=None, plan=plan)
    record_credited_time(employee=org.head, course=catalog.video, seconds=3 * HOUR, occurred_at=at(2026, 2, 3))
    process_periods(now=at(2026, 3, 2))  # February is judged and frozen with 3 h
    # Time recorded later for February (an import, a late beat) does not rewrite a frozen period.
    record_credited_time(employee=org.head, course=catalog.video, seconds=HOUR, occurred_at=at(2026, 2, 4))
    text = client_for(org.head).get(reverse("plans:history")).text
    row = text[text.index("2026-02"):].split("</tr>")[0]
    assert "<td>3.0 / 8.0</td>" in row and "incomplete" in row and "non-compliant" in row
