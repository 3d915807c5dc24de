from django.urls import path

from learntrace.records import views

app_name = "records"
urlpatterns = [
    path("import/", views.import_history, name="import_history"),
    path("people/<int:employee_id>/corrections/", views.correct, name="correct"),
    path("courses/<int:course_id>/quiz/", views.quiz_take, name="quiz"),
]
