"""Long lists keep their filters from page to page (core/paging.py)."""

import re

from django.urls import reverse

from learntrace.catalog.models import Category, Course, CourseKind


def titles(response) -> list[str]:
    return re.findall(r"Course (\d{3})", response.text)


def test_the_next_page_of_a_filtered_course_list_keeps_the_filter(org, client_for):
    category = Category.objects.create(code="ward", name="病区", name_en="Ward")
    Course.objects.bulk_create(
        [Course(title=f"Course {n:03}", kind=CourseKind.DOCUMENT if n % 2 else CourseKind.OFFLINE, category=category,
                duration_seconds=600, is_published=True) for n in range(120)])
    client = client_for(org.admin)

    first = client.get(reverse("catalog:courses"), {"kind": CourseKind.OFFLINE})
    assert first.status_code == 200
    assert f'href="?kind={CourseKind.OFFLINE}&amp;page=2"' in first.text
    second = client.get(reverse("catalog:courses"), {"kind": CourseKind.OFFLINE, "page": "2"})
    shown = titles(second)
    # 60 offline meetings: 50 on the first page, the other 10 on the second, and no documents among them.
    assert len(shown) == 10 and all(int(number) % 2 == 0 for number in shown)
    assert "page=3" not in second.text and 'href="?kind=offline&amp;page=1"' in second.text


def test_a_page_number_that_is_not_a_page_shows_the_nearest_page(org, client_for):
    category = Category.objects.create(code="ward", name="病区", name_en="Ward")
    Course.objects.bulk_create([Course(title=f"Course {n:03}", kind=CourseKind.OFFLINE, category=category,
                                       duration_seconds=600, is_published=True) for n in range(60)])
    client = client_for(org.admin)
    assert len(titles(client.get(reverse("catalog:courses"), {"page": "x"}))) == 50
    assert len(titles(client.get(reverse("catalog:courses"), {"page": "99"}))) == 10
