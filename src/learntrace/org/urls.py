from django.urls import path

from learntrace.org import views

app_name = "org"
urlpatterns = [
    path("departments/", views.department_list, name="departments"),
    path("departments/new/", views.department_edit, name="department_new"),
    path("departments/<int:department_id>/edit/", views.department_edit, name="department_edit"),
    path("employees/", views.employee_list, name="employees"),
    path("employees/new/", views.employee_edit, name="employee_new"),
    path("employees/<int:employee_id>/", views.employee_detail, name="employee"),
    path("employees/<int:employee_id>/edit/", views.employee_edit, name="employee_edit"),
    path("employees/<int:employee_id>/password/", views.employee_password, name="employee_password"),
    path("employees/<int:employee_id>/roles/", views.employee_roles, name="employee_roles"),
    path("employees/<int:employee_id>/roles/<int:grant_id>/revoke/", views.employee_role_revoke,
         name="employee_role_revoke"),
    path("me/", views.my_profile, name="me"),
    path("import/", views.import_upload, name="import"),
    path("import/<uuid:batch_id>/", views.import_batch, name="import_batch"),
    path("import/<uuid:batch_id>/confirm/", views.import_confirm, name="import_confirm"),
    path("import/template.xlsx", views.import_template, {"file_format": "xlsx"}, name="import_template_xlsx"),
    path("import/template.csv", views.import_template, {"file_format": "csv"}, name="import_template_csv"),
]
