"""Catalogue: courses, categories and credit classes; courses created and changed through the
course page's own form (its checks, its audit entry)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from learntrace.api.v1.auth import need, need_admin
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut
from learntrace.api.v1.page_forms import current_data, form_errors, refusal
from learntrace.api.v1.pagination import PageParams, paginate
from learntrace.api.v1.types import NO_NUL, Id, Key, Text
from learntrace.catalog.access import visible_courses
from learntrace.catalog.forms import CourseForm
from learntrace.catalog.models import Category, Course, CourseKind, CreditClass
from learntrace.core.audit import save_with_audit

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
    project_number: str
    credit_hours: float | None
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
            "published": course.is_published, "project_number": course.project_number,
            "credit_hours": float(course.credit_hours) if course.credit_hours is not None else None,
            "updated_at": course.updated_at}


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


class CourseIn(Schema):
    """A course as the course page edits it. Creating one needs title, kind, category and
    duration_minutes; a change sends only what changes (null clears an optional value). Video and PDF
    files are uploaded on the page: a video course created here plays its `external_url`."""

    title: Text | None = None
    description: Annotated[str, Field(max_length=20000, pattern=NO_NUL)] | None = None
    kind: CourseKind | None = None
    category: Key | None = Field(None, description="The category's code.")
    duration_minutes: Decimal | None = Field(None, description="Length of the video or meeting; for a document, "
                                                               "the minimum reading time (0.1 to 100000).")
    completion_threshold: int | None = Field(None, description="Share (%) that must really be watched or read.")
    no_skipping: bool | None = None
    credits: Decimal | None = None
    credit_class: Key | None = Field(None, description="The credit class's code; needed when credits are given.")
    project_number: Text | None = Field(None, description="CME project number (项目编号).")
    credit_hours: Decimal | None = Field(None, description="Accredited hours (学时).")
    external_url: Text | None = None
    location: Text | None = None
    published: bool | None = None


# The page form's field names that the API calls otherwise.
COURSE_NAMES = {"is_published": "published", "video_file": "external_url"}


def _save_course(request, course: Course, payload: CourseIn) -> Course:
    form = CourseForm(instance=course)
    data = current_data(form)
    sent = payload.model_dump(exclude_unset=True)
    for name, model in (("category", Category), ("credit_class", CreditClass)):
        if name in sent:
            code = sent.pop(name)
            # An unknown code is left for the form to refuse, with the page's own message.
            found = model.objects.filter(code=code).values_list("pk", flat=True).first() if code else None
            data[name] = found or code
    if "published" in sent:
        sent["is_published"] = sent.pop("published")
    data.update(sent)
    form = CourseForm(data, {}, instance=course)
    if not form.is_valid():
        raise refusal(form_errors(form, COURSE_NAMES))
    return save_with_audit(actor=request.user, form=form, summary=lambda saved: saved.title)


@router.post("/courses", response={201: CourseOut, ERROR_STATUSES: ErrorOut},
             summary="Create a course (training admins)")
def create_course(request, payload: CourseIn):
    need_admin(request, "catalog:write")
    return Status(201, course_out(_save_course(request, Course(created_by=request.user), payload)))


@router.patch("/courses/{course_id}", response={200: CourseOut, ERROR_STATUSES: ErrorOut},
              summary="Change a course: only the fields sent (training admins)")
def update_course(request, course_id: Id, payload: CourseIn):
    need_admin(request, "catalog:write")
    course = get_object_or_404(Course, pk=course_id)
    return course_out(_save_course(request, course, payload))
