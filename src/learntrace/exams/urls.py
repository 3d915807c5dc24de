from django.urls import path

from learntrace.exams import admin_views, views

app_name = "exams"
urlpatterns = [
    # Learners
    path("", views.my_exams, name="my"),
    path("<int:exam_id>/start/", views.start, name="start"),
    path("sittings/<int:sitting_id>/", views.sitting_page, name="sitting"),
    path("sittings/<int:sitting_id>/answers", views.save, name="save"),
    path("sittings/<int:sitting_id>/left", views.left, name="left"),
    path("sittings/<int:sitting_id>/submit", views.submit, name="submit"),
    path("results/<int:result_id>/", views.result_page, name="result"),
    # Admins
    path("banks/", admin_views.banks, name="banks"),
    path("banks/<int:bank_id>/", admin_views.bank_detail, name="bank"),
    path("banks/<int:bank_id>/edit/", admin_views.bank_edit, name="bank_edit"),
    path("banks/<int:bank_id>/questions/new/", admin_views.question_edit, name="question_new"),
    path("banks/<int:bank_id>/questions/<int:question_id>/", admin_views.question_edit, name="question_edit"),
    path("banks/<int:bank_id>/import/", admin_views.bank_import, name="bank_import"),
    path("manage/", admin_views.exam_list, name="exams"),
    path("manage/new/", admin_views.exam_edit, name="exam_new"),
    path("manage/<int:exam_id>/", admin_views.exam_detail, name="exam"),
    path("manage/<int:exam_id>/edit/", admin_views.exam_edit, name="exam_edit"),
    path("manage/<int:exam_id>/paper/", admin_views.exam_paper, name="exam_paper"),
]
