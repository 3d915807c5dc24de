"""The exam centre's pages: a learner sits an exam through the views, what the client may and may not
learn, the admin's banks, import, papers and results, and certificates with their public check."""

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook
from pypdf import PdfReader

from exam_fixtures import all_right, make_exam_centre
from learntrace.certificates import reminders
from learntrace.certificates.models import Certificate, CertificateKind
from learntrace.core.models import AuditEntry
from learntrace.exams.models import BankQuestion, Exam, ExamItem, ExamResult, QuestionBank, Sitting
from learntrace.notify.models import ChannelKind, Delivery, Notification
from notify_helpers import channel


@pytest.fixture
def centre(org, catalog):
    return make_exam_centre(catalog.management)


def start(client, centre):
    response = client.post(f"/exams/{centre.exam.pk}/start/")
    assert response.status_code == 302
    return Sitting.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))


def save(client, sitting, answers):
    return client.post(f"/exams/sittings/{sitting.pk}/answers", json.dumps({"answers": answers}),
                       content_type="application/json")


def test_a_learner_sits_an_exam_and_sees_the_review(client_for, centre, org):
    client = client_for(org.learner)
    assert "Ward safety exam" in client.get("/exams/").content.decode()
    sitting = start(client, centre)
    page = client.get(f"/exams/sittings/{sitting.pk}/").content.decode()
    assert "Which hand rub time is enough?" in page and "20 s" in page
    response = save(client, sitting, {str(centre.truth.pk): "true"})
    assert response.status_code == 200 and response.json()["saved"] == 1
    form = {f"q{centre.single.pk}": str(centre.single_choices[1].pk),
            f"q{centre.multiple.pk}": [str(centre.multiple_choices[0].pk), str(centre.multiple_choices[1].pk)],
            f"q{centre.blank.pk}": "120"}
    response = client.post(f"/exams/sittings/{sitting.pk}/submit", form)
    result = ExamResult.objects.get(sitting=sitting)
    assert response.url == f"/exams/results/{result.pk}/"
    assert (result.score, result.passed) == (100, True)
    review = client.get(response.url).content.decode()
    assert "100 % (5 / 5)" in review and "your answer" in review and "Correct answer" not in review
    Exam.objects.filter(pk=centre.exam.pk).update(review=Exam.Review.CORRECT)
    assert "Correct answer: True" in client.get(response.url).content.decode()
    Exam.objects.filter(pk=centre.exam.pk).update(review=Exam.Review.NONE)
    assert "your answer" not in client.get(response.url).content.decode()


def test_the_client_never_receives_the_correct_answers_before_submitting(client_for, centre, org):
    client = client_for(org.learner)
    sitting = start(client, centre)
    page = client.get(f"/exams/sittings/{sitting.pk}/").content.decode()
    assert "120" not in page and "correct" not in page.lower().replace("correct horse", "")
    # Every option of a question is written the same way: nothing tells the right one apart.
    for choice in centre.single_choices:
        assert f'name="q{centre.single.pk}" value="{choice.pk}">' in page
    saved = save(client, sitting, {str(centre.single.pk): [centre.single_choices[0].pk]}).json()
    assert set(saved) == {"saved", "remaining"}
    # The result of someone else's sitting, and the sitting itself, are not reachable.
    assert client.get(f"/exams/results/{ExamResult.objects.count() + 1}/").status_code == 404


def test_attacks_through_the_views(client_for, centre, org):
    client = client_for(org.learner)
    sitting = start(client, centre)
    other = BankQuestion.objects.create(bank=centre.bank, kind="true_false", text="Not drawn", answers=[True])
    response = save(client, sitting, {str(other.pk): "true"})
    assert response.status_code == 400 and response.json()["code"] == "not_drawn"
    assert save(client, sitting, "not a dict").json()["code"] == "bad_answer"
    broken = client.post(f"/exams/sittings/{sitting.pk}/answers", b"{", content_type="application/json")
    assert broken.status_code == 400
    # Another person cannot answer in, leave or submit this sitting.
    intruder = client_for(org.outsider)
    assert save(intruder, sitting, {}).status_code == 404
    assert intruder.post(f"/exams/sittings/{sitting.pk}/submit", {}).status_code == 404
    client = client_for(org.learner)
    # The time runs out: the form sent afterwards is refused and the sitting ends with what was saved.
    Sitting.objects.filter(pk=sitting.pk).update(deadline=timezone.now() - dt.timedelta(seconds=5))
    response = client.post(f"/exams/sittings/{sitting.pk}/submit", {f"q{centre.truth.pk}": "true"}, follow=True)
    assert "answers sent after the deadline were not accepted" in response.content.decode()
    result = ExamResult.objects.get(sitting=sitting)
    assert (result.ending, result.points) == ("time_up", 0)
    # A second submission changes nothing.
    client.post(f"/exams/sittings/{sitting.pk}/submit", {f"q{centre.truth.pk}": "true"})
    assert ExamResult.objects.filter(sitting=sitting).count() == 1
    assert save(client, sitting, {}).json()["code"] == "ended"


def test_leaving_the_page_past_the_limit_ends_the_sitting(client_for, centre, org):
    client = client_for(org.learner)
    sitting = start(client, centre)
    url = f"/exams/sittings/{sitting.pk}/left"
    assert client.post(url).json() == {"count": 1, "limit": 2, "ended": False,
                                       "result_url": f"/exams/sittings/{sitting.pk}/"}
    assert client.post(url).json()["ended"] is False
    assert client.post(url).json()["ended"] is True
    assert ExamResult.objects.get(sitting=sitting).ending == "left_page"
    assert client.post(url).status_code == 409


def test_admin_pages_need_the_admin_role(client_for, centre, org):
    for path in ("/exams/banks/", f"/exams/banks/{centre.bank.pk}/", "/exams/manage/",
                 f"/exams/manage/{centre.exam.pk}/", "/certificates/"):
        assert client_for(org.admin).get(path).status_code == 200
        assert client_for(org.auditor).get(path).status_code == 200
        assert client_for(org.learner).get(path).status_code == 403
    auditor = client_for(org.auditor)
    assert auditor.post("/exams/banks/", {"name": "x", "category": centre.bank.category_id}).status_code == 403
    assert client_for(org.auditor).get("/exams/manage/new/").status_code == 403
    assert not QuestionBank.objects.filter(name="x").exists()


def test_an_admin_builds_a_bank_and_an_exam(client_for, centre, org, catalog):
    client = client_for(org.admin)
    response = client.post("/exams/banks/", {"name": "Fire safety", "category": catalog.management.pk})
    bank = QuestionBank.objects.get(name="Fire safety")
    assert response.url == f"/exams/banks/{bank.pk}/"
    response = client.post(f"/exams/banks/{bank.pk}/questions/new/", {
        "kind": "single", "text": "Where is the extinguisher?", "difficulty": 1, "choice_0": "Hall", "correct_0": "on",
        "choice_1": "Roof", "is_active": "on"})
    assert response.status_code == 302
    question = bank.questions.get()
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [("Hall", True), ("Roof", False)]
    bad = client.post(f"/exams/banks/{bank.pk}/questions/new/", {"kind": "single", "text": "No right option",
                                                               "difficulty": 2, "choice_0": "a", "choice_1": "b"})
    assert bad.status_code == 200 and "Mark one correct option" in bad.content.decode()
    client.post("/exams/manage/new/", {"title": "Fire", "mode": "fixed", "time_limit_minutes": 10, "pass_mark": 80,
                                       "attempts_allowed": 1, "review": "answers", "is_published": "on"})
    exam = Exam.objects.get(title="Fire")
    client.post(f"/exams/manage/{exam.pk}/paper/", {"add_item": "1", "question": question.pk, "points": 5})
    assert list(ExamItem.objects.filter(exam=exam).values_list("question_id", "points")) == [(question.pk, 5)]
    assert AuditEntry.objects.filter(object_type="examitem", action="create").count() == 1
    # Once someone has sat it, the paper is fixed.
    client_for(org.learner).post(f"/exams/{exam.pk}/start/")
    client = client_for(org.admin)
    client.post(f"/exams/manage/{exam.pk}/paper/", {"remove_item": ExamItem.objects.get(exam=exam).pk})
    assert ExamItem.objects.filter(exam=exam).count() == 1


def xlsx(rows) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("questions.xlsx", buffer.getvalue())


HEADER = ["题型", "题目", "选项A", "选项B", "选项C", "答案", "难度", "解析"]


def test_the_import_lists_every_error_of_every_row_then_imports_all_or_nothing(client_for, centre, org):
    client = client_for(org.admin)
    url = f"/exams/banks/{centre.bank.pk}/import/"
    before = centre.bank.questions.count()
    response = client.post(url, {"file": xlsx([HEADER, ["单选", "Q1", "a", "b", "", "C", "", ""],
                                               ["问答", "", "", "", "", "", "9", ""],
                                               ["判断", "Q3", "", "", "", "也许", "", ""]])})
    errors = [(e["row"], e["column"]) for e in response.context["result"].errors]
    assert errors == [(2, "答案"), (3, "题型"), (3, "题目"), (3, "难度"), (4, "答案")]
    assert centre.bank.questions.count() == before
    response = client.post(url, {"file": xlsx([HEADER,
                                               ["多选", "Which are fruit?", "apple", "stone", "pear", "AC", "易", "x"],
                                               ["判断", "Water is wet.", "", "", "", "对", "", ""],
                                               ["填空", "2+2=", "", "", "", "4|四", "3", ""]])})
    result = response.context["result"]
    assert result.ok and (result.rows, result.added) == (3, 3)
    response = client.post(url, {"token": response.context["token"]})
    assert response.status_code == 302
    added = {q.text: q for q in centre.bank.questions.all()}
    assert [c.is_correct for c in added["Which are fruit?"].choices.all()] == [True, False, True]
    assert added["Which are fruit?"].difficulty == 1 and added["Water is wet."].answers == [True]
    assert added["2+2="].answers == ["4", "四"] and added["2+2="].difficulty == 3


def test_per_question_statistics_are_shown(client_for, centre, org):
    client = client_for(org.learner)
    sitting = start(client, centre)
    client.post(f"/exams/sittings/{sitting.pk}/submit", {f"q{centre.truth.pk}": "true"})
    page = client_for(org.admin).get(f"/exams/banks/{centre.bank.pk}/").content.decode()
    row = page.split(f'data-question="{centre.truth.pk}"')[1].split("</tr>")[0]
    assert "<td>1</td><td>100 %</td>" in row.replace("\n", "").replace("    ", "")


@pytest.mark.django_db(transaction=True)
def test_passing_issues_a_certificate_that_anyone_can_check(client_for, org, catalog):
    centre = make_exam_centre(catalog.management)
    kind = CertificateKind.objects.create(title="Ward safety certificate", exam=centre.exam, valid_months=24)
    client = client_for(org.learner)
    sitting = start(client, centre)
    client.post(f"/exams/sittings/{sitting.pk}/submit", {})  # 0 %: no certificate
    assert not Certificate.objects.exists()
    sitting = start(client, centre)
    answers = all_right(centre)
    save(client, sitting, answers)
    client.post(f"/exams/sittings/{sitting.pk}/submit", {})
    certificate = Certificate.objects.get()
    result = ExamResult.objects.get(sitting=sitting)
    assert (certificate.kind, certificate.employee, certificate.exam_result) == (kind, org.learner, result)
    assert timezone.localtime(certificate.expires_at).date() == timezone.localtime(result.submitted_at).date().replace(
        year=timezone.localtime(result.submitted_at).year + 2)
    assert "Ward safety certificate" in client.get("/certificates/mine/").content.decode()
    pdf = client.get(f"/certificates/{certificate.pk}/certificate.pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Learner in cardiology" in text and f"/certificates/verify/{certificate.code}/" in text
    assert client_for(org.outsider).get(f"/certificates/{certificate.pk}/").status_code == 404
    client.logout()
    page = client.get(f"/certificates/verify/{certificate.code}/")
    assert page.status_code == 200 and 'data-status="valid"' in page.content.decode()
    assert client.get("/certificates/verify/NOTACODE/").status_code == 404
    assert page.content.decode().count('class="badge') == 1  # valid; not sealed yet: nothing to compare
    from learntrace.evidence.services import seal_pending

    seal = seal_pending()[-1]
    page = client.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert page.count('class="badge good"') == 2 and f" {seal.number} " in page  # valid, and its record matches
    Certificate.objects.filter(pk=certificate.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    page = client.get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert 'data-status="expired"' in page and page.count('class="badge bad"') == 2  # changed after sealing


@pytest.mark.django_db(transaction=True)
def test_people_and_their_heads_are_reminded_before_a_certificate_expires(org, catalog):
    centre = make_exam_centre(catalog.management)
    inbox = channel(ChannelKind.INAPP)
    kind = CertificateKind.objects.create(title="Ward safety certificate", exam=centre.exam, valid_months=12,
                                          remind_days_before=[30, 7])
    kind.channels.add(inbox)
    now = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)  # 11:00 in Shanghai
    result = ExamResult.objects.create(
        sitting=Sitting.objects.create(exam=centre.exam, employee=org.learner, number=1, started_at=now,
                                       deadline=now, ended_at=now, ending="submitted"),
        employee=org.learner, exam=centre.exam, number=1, answers={}, points=1, max_points=1, score=100, passed=True,
        ending="submitted", hidden_count=0, started_at=now, submitted_at=now)
    certificate = Certificate.objects.create(kind=kind, employee=org.learner, code="TESTCODE", title=kind.title,
                                             exam_result=result, issued_at=now, expires_at=now + dt.timedelta(days=30))
    assert reminders.send_due(now=now) == 2  # the learner and the head of internal medicine
    assert reminders.send_due(now=now) == 0  # once only
    assert sorted(Delivery.objects.values_list("recipient__name", "purpose")) == [
        ("Head of medicine", "certificate"), ("Learner in cardiology", "certificate")]
    notes = {n.employee_id: n.text for n in Notification.objects.all()}
    assert "Learner in cardiology" in notes[org.head.pk] and certificate.code not in notes[org.learner.pk]
    assert reminders.send_due(now=now + dt.timedelta(days=1)) == 0  # 29 days before: not a reminder day


def test_the_api_lists_exam_results_of_the_people_the_caller_reads(client_for, centre, org):
    from learntrace.exams import services

    for person in (org.learner, org.outsider):
        services.submit(sitting=services.start(exam=centre.exam, employee=person), answers=all_right(centre))
    rows = client_for(org.admin).get("/api/v1/records/exam-results").json()["items"]
    assert [(r["employee_no"], r["score"], r["passed"], r["ending"], r["sealed"]) for r in rows] == [
        ("E001", 100, True, "submitted", False), ("E002", 100, True, "submitted", False)]
    assert "answers" not in rows[0]
    from learntrace.evidence.services import seal_pending

    seal_pending()
    rows = client_for(org.admin).get("/api/v1/records/exam-results").json()["items"]
    assert [r["sealed"] for r in rows] == [True, True]
    head = client_for(org.head).get("/api/v1/records/exam-results").json()["items"]
    assert [r["employee_no"] for r in head] == ["E001"]  # the head sees their department only
    assert client_for(org.learner).get("/api/v1/records/exam-results?employee_no=E002").json()["items"] == []
