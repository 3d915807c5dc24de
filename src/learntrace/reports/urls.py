from django.urls import path

from learntrace.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("people/", views.people, name="people"),
    path("courses/", views.courses, name="courses"),
    path("courses/<int:course_id>/", views.course, name="course"),
    path("export/<str:report>.<str:file_format>", views.export, name="export"),
    path("exports/", views.export_jobs, name="export_jobs"),
    path("exports/<uuid:job_id>/", views.export_job, name="export_job"),
    path("exports/<uuid:job_id>/state.json", views.export_job_state, name="export_job_state"),
    path("exports/<uuid:job_id>/download/", views.export_download, name="export_download"),
]
