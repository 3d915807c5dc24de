"""Catalogue: courses, categories and credit classes."""

import datetime as dt

from ninja import Query, Router, Schema

from learntrace.api.v1.auth import need
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut
from learntrace.api.v1.pagination import PageParams, paginate
from learntrace.catalog.access import visible_courses
from learntrace.catalog.models import Category, CourseKind, CreditClass

router = Router(tags=["catalogue"])


class NamedOut(Schema):
    code: str
    name: str
    name_en: str
    active: bool


class CourseOut(Schema):
    id: int
    title: str
    kind: str
    category: NamedOut
    credit_class: NamedOut | None
    credits: float
    duration_seconds: int
    completion_threshold: int
    published: bool
    updated_at: dt.datetime


class CoursePage(Schema):
    items: list[CourseOut]
    next_cursor: str | None


def named_out(item) -> dict | None:
    if item is None:
        return None
    return {"code": item.code, "name": item.name, "name_en": item.name_en, "active": item.is_active}


def course_out(course) -> dict:
    return {"id": course.pk, "title": course.title, "kind": course.kind, "category": named_out(course.category),
            "credit_class": named_out(course.credit_class), "credits": float(course.credits),
            "duration_seconds": course.duration_seconds, "completion_threshold": course.completion_threshold,
            "published": course.is_published, "updated_at": course.updated_at}


@router.get("/courses", response={200: CoursePage, ERROR_STATUSES: ErrorOut}, summary="Courses, by cursor")
def courses(request, page: Query[PageParams], kind: CourseKind | None = None):
    need(request, "catalog:read")
    found = visible_courses(request.user)
    if kind:
        found = found.filter(kind=kind)
    items, next_cursor = paginate(found, "updated_at", page)
    return {"items": [course_out(c) for c in items], "next_cursor": next_cursor}


@router.get("/categories", response={200: list[NamedOut], ERROR_STATUSES: ErrorOut}, summary="Course categories")
def categories(request):
    need(request, "catalog:read")
    return [named_out(c) for c in Category.objects.order_by("code")]


@router.get("/credit-classes", response={200: list[NamedOut], ERROR_STATUSES: ErrorOut}, summary="Credit classes")
def credit_classes(request):
    need(request, "catalog:read")
    return [named_out(c) for c in CreditClass.objects.order_by("code")]
