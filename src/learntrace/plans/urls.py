from django.urls import path

from learntrace.plans import views

app_name = "plans"
urlpatterns = [
    path("", views.plan_list, name="plans"),
    path("new/", views.plan_edit, name="plan_new"),
    path("<int:plan_id>/", views.plan_detail, name="plan"),
    path("<int:plan_id>/edit/", views.plan_edit, name="plan_edit"),
    path("<int:plan_id>/publish/", views.plan_publish, name="plan_publish"),
    path("<int:plan_id>/archive/", views.plan_archive, name="plan_archive"),
    path("my/", views.my_learning, name="my"),
    path("my/history/", views.history, name="history"),
    path("people/<int:employee_id>/", views.person_learning, name="person"),
    path("people/<int:employee_id>/history/", views.history, name="person_history"),
    path("assignments/<int:assignment_id>/", views.assignment_detail, name="assignment"),
    path("assignments/<int:assignment_id>/reflection/", views.reflection_save, name="reflection_save"),
    path("team/", views.team, name="team"),
    path("reflections/", views.reflection_queue, name="reflections"),
    path("reflections/<int:reflection_id>/review/", views.reflection_review, name="reflection_review"),
]
