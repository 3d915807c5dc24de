from django.urls import path

from learntrace.compliance import views

app_name = "compliance"
urlpatterns = [
    path("", views.outcomes, name="outcomes"),
    path("export.csv", views.outcomes_export, {"file_format": "csv"}, name="export_csv"),
    path("export.xlsx", views.outcomes_export, {"file_format": "xlsx"}, name="export_xlsx"),
    path("plans/<int:plan_id>/rules/", views.rules, name="rules"),
    path("plans/<int:plan_id>/rules/new/", views.rule_edit, name="rule_new"),
    path("plans/<int:plan_id>/rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("rules/<int:rule_id>/consequences/", views.consequence_add, name="consequence_add"),
    path("consequences/<int:consequence_id>/delete/", views.consequence_delete, name="consequence_delete"),
    path("periods/<int:period_id>/evaluate/", views.evaluate, name="evaluate"),
    path("periods/<int:period_id>/freeze/", views.freeze, name="freeze"),
    path("periods/<int:period_id>/reopen/", views.reopen, name="reopen"),
]
