from django.urls import path

from learntrace.creditrules import views

app_name = "creditrules"
urlpatterns = [
    path("rules/", views.rule_sets, name="rule_sets"),
    path("rules/new/", views.rule_set_edit, name="rule_set_new"),
    path("rules/<int:rule_set_id>/", views.rule_set_edit, name="rule_set_edit"),
    path("rules/<int:rule_set_id>/delete/", views.rule_set_delete, name="rule_set_delete"),
    path("my/", views.my_year, name="my_year"),
    path("people/<int:employee_id>/<int:year>/", views.person_year, name="person_year"),
]
