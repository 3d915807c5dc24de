from django.urls import path

from learntrace.catalog import views

app_name = "catalog"
urlpatterns = [
    path("courses/", views.course_list, name="courses"),
    path("courses/new/", views.course_edit, name="course_new"),
    path("courses/<int:course_id>/", views.course_detail, name="course"),
    path("courses/<int:course_id>/edit/", views.course_edit, name="course_edit"),
    path("courses/<int:course_id>/video", views.course_media, {"which": "video"}, name="course_video"),
    path("courses/<int:course_id>/document.pdf", views.course_media, {"which": "document"}, name="course_document"),
    path("courses/<int:course_id>/quiz/edit/", views.quiz_edit, name="quiz_edit"),
    path("courses/<int:course_id>/quiz/questions/<int:question_id>/delete/", views.question_delete,
         name="question_delete"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:category_id>/", views.categories, name="category_edit"),
    path("credit-classes/", views.credit_classes, name="credit_classes"),
    path("credit-classes/<int:credit_class_id>/", views.credit_classes, name="credit_class_edit"),
]
