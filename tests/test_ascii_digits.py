"""Numbers in URLs, query strings and forms are ASCII digits: other scripts' digits are refused
cleanly, never a 500 (`isdigit()`, `int()` and `\\d` accept different sets of Unicode digits)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from learntrace.catalog.models import Course, CourseKind
from learntrace.core.numbers import ascii_digits, whole_number
from learntrace.notify.forms import _day_numbers
from learntrace.org.importing import valid_national_id

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOT_ASCII = ["²", "١٢", "１２", "۱", "߁", "𝟏"]  # superscript, Arabic-Indic, full-width, Persian, NKo, maths


@pytest.mark.parametrize("text", NOT_ASCII + ["", " 1", "1\n", "+1", "-1", "1_000", "9" * 19])
def test_only_ascii_digits_make_a_whole_number(text):
    assert whole_number(text) is None


def test_whole_numbers():
    assert whole_number("0") == 0 and whole_number("0042") == 42 and whole_number("9" * 18) == 10**18 - 1
    assert ascii_digits("9" * 5000) and not ascii_digits("١")


@pytest.mark.parametrize("value", NOT_ASCII)
def test_filters_in_query_strings_ignore_other_digits(org, client_for, value):
    admin = client_for(org.admin)
    assert admin.get(reverse("catalog:courses"), {"category": value}).status_code == 200
    assert admin.get(reverse("plans:team"), {"plan": value, "department": value}).status_code == 200
    assert admin.get(reverse("compliance:outcomes"),
                     {"plan": value, "period": value, "department": value}).status_code == 200


def test_a_range_of_other_digits_or_too_many_digits_serves_the_whole_file(org, client_for, catalog):
    course = Course(title="Guide", kind=CourseKind.DOCUMENT, category=catalog.meeting.category,
                    duration_seconds=600, is_published=True)
    course.document_file.save("guide.pdf", SimpleUploadedFile("guide.pdf", PDF), save=False)
    course.save()
    client = client_for(org.learner)
    url = reverse("catalog:course_document", args=[course.pk])
    for header in ("bytes=١-٥", "bytes=²-", "bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000):
        response = client.get(url, HTTP_RANGE=header)
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert client.get(url, HTTP_RANGE="bytes=1-3").status_code == 206


def test_days_of_the_month_are_ascii(db):
    assert _day_numbers("1, 15，25", low=1, high=31) == [1, 15, 25]
    for value in ("²", "١٥", "１５"):
        with pytest.raises(ValidationError):
            _day_numbers(value, low=1, high=31)


def test_a_national_id_is_ascii():
    assert valid_national_id("11010519491231002X")
    arabic = "11010519491231002X".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert not valid_national_id(arabic)
