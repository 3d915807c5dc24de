"""The catalogue through its pages: editing courses and quizzes, range requests, role boundaries."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from learntrace.catalog.models import Category, Course, CourseKind, CreditClass, Question, Quiz
from learntrace.records.models import QuizAttempt

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def management(db):
    return Category.objects.create(code="management", name="管理", name_en="Management")


@pytest.fixture
def cme1(db):
    return CreditClass.objects.create(code="cme-1", name="I类学分", name_en="CME class I")


def course_form(category, **overrides):
    data = {"title": "Leading a ward", "description": "", "kind": "document", "category": category.pk,
            "duration_minutes": "30", "completion_threshold": "95", "credits": "0", "credit_class": "",
            "external_url": "", "location": "", "is_published": "on"}
    data.update(overrides)
    return data


def test_an_admin_creates_a_document_course(org, client_for, management):
    data = course_form(management, document_file=SimpleUploadedFile("guide.pdf", PDF, "application/pdf"))
    response = client_for(org.admin).post(reverse("catalog:course_new"), data)
    assert response.status_code == 302, response.text
    course = Course.objects.get()
    assert course.duration_seconds == 1800 and course.kind == CourseKind.DOCUMENT
    assert course.document_file.read() == PDF


@pytest.mark.parametrize("overrides,field_text", [
    ({"kind": "video"}, "video file or an external URL"),
    ({"kind": "document"}, "needs a PDF"),
    ({"duration_minutes": "-5"}, "duration"),
    ({"completion_threshold": "150"}, "100"),
    ({"credits": "-1"}, "credits"),
    ({"credits": "2"}, "class of credits"),
    ({"kind": "hologram"}, "kind"),
])
def test_bad_course_input_is_refused_with_a_reason(org, client_for, management, overrides, field_text):
    response = client_for(org.admin).post(reverse("catalog:course_new"), course_form(management, **overrides))
    assert response.status_code == 200
    assert "errorlist" in response.text and field_text in response.text
    assert not Course.objects.exists()


def test_a_fake_pdf_is_refused(org, client_for, management):
    data = course_form(management, document_file=SimpleUploadedFile("x.pdf", b"MZ not a pdf", "application/pdf"))
    response = client_for(org.admin).post(reverse("catalog:course_new"), data)
    assert "This is not a PDF file." in response.text


@pytest.fixture
def document(management):
    course = Course(title="Guide", kind=CourseKind.DOCUMENT, category=management, duration_seconds=600,
                    is_published=True)
    course.document_file.save("guide.pdf", SimpleUploadedFile("guide.pdf", PDF), save=False)
    course.save()
    return course


def test_media_is_served_with_range_requests(org, client_for, document):
    client = client_for(org.learner)
    url = reverse("catalog:course_document", args=[document.pk])
    whole = client.get(url)
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == PDF
    part = client.get(url, HTTP_RANGE="bytes=5-9")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 5-9/{len(PDF)}"
    assert b"".join(part.streaming_content) == PDF[5:10]
    tail = client.get(url, HTTP_RANGE="bytes=-6")
    assert b"".join(tail.streaming_content) == PDF[-6:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(PDF) + 10}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(PDF)}"
    nonsense = client.get(url, HTTP_RANGE="bytes=abc")
    assert nonsense.status_code == 200


@pytest.mark.parametrize("which", ["video", "document"])
def test_media_missing_on_this_server_answers_404_with_the_reason(org, client_for, management, which):
    course = Course(title="Gone", kind=which, category=management, duration_seconds=600, is_published=True)
    getattr(course, f"{which}_file").save(f"gone.{'mp4' if which == 'video' else 'pdf'}",
                                            SimpleUploadedFile("gone", PDF), save=False)
    course.save()
    Path(getattr(course, f"{which}_file").path).unlink()  # the file lives on another node
    client = client_for(org.learner)
    url = reverse(f"catalog:course_{which}", args=[course.pk])
    for headers in ({}, {"HTTP_RANGE": "bytes=0-9"}, {"HTTP_RANGE": "bytes=-5"}):
        response = client.get(url, **headers)
        assert response.status_code == 404
        assert "The file of this course is missing on this server. Please tell the training admin." in response.text


def test_learners_see_published_courses_only(org, client_for, document, management):
    draft = Course.objects.create(title="Secret draft", kind=CourseKind.OFFLINE, category=management,
                                  duration_seconds=600)
    client = client_for(org.learner)
    listing = client.get(reverse("catalog:courses")).text
    assert "Guide" in listing and "Secret draft" not in listing
    assert client.get(reverse("catalog:course", args=[draft.pk])).status_code == 404
    assert client.get(reverse("catalog:course_edit", args=[document.pk])).status_code == 403
    assert client.get(reverse("catalog:categories")).status_code == 403
    assert client_for(org.auditor).get(reverse("catalog:course", args=[draft.pk])).status_code == 200
    assert client_for(org.auditor).post(reverse("catalog:course_edit", args=[draft.pk]), {}).status_code == 403


def test_categories_and_credit_classes_are_edited_by_the_admin(org, client_for):
    client = client_for(org.admin)
    client.post(reverse("catalog:categories"), {"code": "compliance", "name": "合规", "name_en": "Compliance",
                                                "is_active": "on"})
    client.post(reverse("catalog:credit_classes"), {"code": "internal", "name": "内部学分", "is_active": "on"})
    assert Category.objects.get(code="compliance").name_en == "Compliance"
    assert CreditClass.objects.filter(code="internal").exists()
    duplicate = client.post(reverse("catalog:categories"), {"code": "compliance", "name": "x"})
    assert duplicate.status_code == 200 and Category.objects.count() == 1


def question_data(kind="single", answers=(("1 hour", True), ("1 day", False))):
    data = {"add_question": "1", "text": "When?", "kind": kind}
    for i, (text, correct) in enumerate(answers):
        data[f"choice_{i}"] = text
        if correct:
            data[f"correct_{i}"] = "on"
    return data


@pytest.mark.parametrize("kind,answers,message", [
    ("single", (("a", False), ("b", False)), "at least one answer as correct"),
    ("single", (("a", True), ("b", True)), "exactly one correct"),
    ("multiple", (("a", True),), "at least two answers"),
    ("single", (("", True), ("b", False), ("c", False)), "marked correct has no text"),
])
def test_a_quiz_question_without_a_proper_answer_is_refused(org, client_for, document, kind, answers, message):
    response = client_for(org.admin).post(reverse("catalog:quiz_edit", args=[document.pk]),
                                          question_data(kind, answers))
    assert response.status_code == 200 and message in response.text
    assert not Question.objects.exists()


def test_a_learner_takes_a_quiz_within_the_attempts_allowed(org, client_for, document):
    admin = client_for(org.admin)
    admin.post(reverse("catalog:quiz_edit", args=[document.pk]),
               {"save_quiz": "1", "pass_mark": "100", "attempts_allowed": "1"})
    admin.post(reverse("catalog:quiz_edit", args=[document.pk]), question_data())
    quiz = Quiz.objects.get(course=document)
    question = quiz.questions.get()
    right = question.choices.get(is_correct=True)
    learner = client_for(org.learner)
    unanswered = learner.post(reverse("records:quiz", args=[document.pk]), {})
    assert "Answer every question" in unanswered.text
    learner.post(reverse("records:quiz", args=[document.pk]), {f"q{question.pk}": [str(right.pk), "999999"]})
    attempt = QuizAttempt.objects.get()
    assert attempt.passed and attempt.score == 100
    learner.post(reverse("records:quiz", args=[document.pk]), {f"q{question.pk}": str(right.pk)})
    assert QuizAttempt.objects.count() == 1  # no attempts left
    delete = client_for(org.admin).post(reverse("catalog:question_delete", args=[document.pk, question.pk]))
    assert delete.status_code == 302 and Question.objects.exists()  # answered: kept


def test_course_credits_are_decimal(org, client_for, management, cme1):
    client_for(org.admin).post(reverse("catalog:course_new"), course_form(
        management, kind="offline", credits="1.5", credit_class=cme1.pk, location="Room 3"))
    assert Course.objects.get().credits == Decimal("1.5")


def test_the_course_page_shows_the_persons_progress_quiz_attempts_and_meetings(org, client_for, catalog):
    import datetime as dt

    from learntrace.checkin.models import Attendance, Meeting
    from learntrace.records.models import CourseProgress

    start = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    meeting = Meeting.objects.create(course=catalog.meeting, title="March meeting", starts_at=start,
                                     ends_at=start + dt.timedelta(hours=2))
    Attendance.objects.create(meeting=meeting, employee=org.learner, status=Attendance.Status.LATE,
                              checked_in_at=start, method=Attendance.Method.MANUAL)
    page = client_for(org.learner).get(reverse("catalog:course", args=[catalog.meeting.pk])).text
    assert "March meeting" in page and '<span class="badge good">Late</span>' in page
    assert client_for(org.head).get(reverse("catalog:course", args=[catalog.meeting.pk])).text.count(
        '<span class="badge good">') == 0  # the head has no attendance of their own

    quiz = Quiz.objects.create(course=catalog.video, pass_mark=80, attempts_allowed=3)
    QuizAttempt.objects.create(quiz=quiz, employee=org.learner, number=1, score=60, passed=False, answers={},
                               submitted_at=start)
    CourseProgress.objects.create(employee=org.learner, course=catalog.video, first_started_at=start,
                                  last_activity_at=start, completed_at=start)
    page = client_for(org.learner).get(reverse("catalog:course", args=[catalog.video.pk])).text
    assert '<span class="badge good">completed</span> 2026-03-10' in page
    assert "1 of 3 attempts used" in page and '<span class="badge bad">60 %</span>' in page
    assert reverse("records:quiz", args=[catalog.video.pk]) in page
    assert "Not started." in client_for(org.head).get(reverse("catalog:course", args=[catalog.video.pk])).text


@pytest.mark.parametrize("meetings", [1, 4])
def test_the_course_page_costs_the_same_queries_for_one_or_four_meetings(org, client_for, catalog, meetings,
                                                                          django_assert_num_queries):
    import datetime as dt

    from learntrace.checkin.models import Attendance, Meeting

    start = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    for number in range(meetings):
        meeting = Meeting.objects.create(course=catalog.meeting, title=f"Meeting {number}",
                                         starts_at=start + dt.timedelta(days=number),
                                         ends_at=start + dt.timedelta(days=number, hours=2))
        Attendance.objects.create(meeting=meeting, employee=org.learner, status=Attendance.Status.ON_TIME,
                                  checked_in_at=start, method=Attendance.Method.MANUAL)
    client = client_for(org.learner)
    client.get(reverse("catalog:course", args=[catalog.meeting.pk]))  # the session is warm
    # session, user, roles (grants, employee), course, quiz, bell count, meetings, their attendance, progress
    with django_assert_num_queries(10):
        page = client.get(reverse("catalog:course", args=[catalog.meeting.pk])).text
    assert page.count('<span class="badge good">On time</span>') == meetings
