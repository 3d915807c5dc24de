from django.urls import path

from learntrace.tracking import views

app_name = "tracking"
urlpatterns = [
    path("courses/<int:course_id>/attempts/", views.attempt_start, name="attempt_start"),
    path("beat/", views.beat, name="beat"),
    path("attention/", views.attention_answer, name="attention"),
    path("courses/<int:course_id>/attention/", views.course_attention, name="course_attention"),
    path("courses/<int:course_id>/attention/<int:placed_id>/remove/", views.placed_question_delete,
         name="placed_question_delete"),
    path("plans/<int:plan_id>/attention/", views.plan_attention, name="plan_attention"),
    path("courses/<int:course_id>/learners/", views.course_learners, name="course_learners"),
    path("courses/<int:course_id>/learners/<int:employee_id>/", views.learner_detail, name="learner_detail"),
]
