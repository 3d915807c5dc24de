from django.urls import path

from learntrace.trainingfile import views

app_name = "trainingfile"
urlpatterns = [
    path("me/", views.file_page, name="my_file"),
    path("me/transcript.pdf", views.transcript, name="my_transcript"),
    path("me/evidence.json", views.bundle, name="my_bundle"),
    path("me/credits-<int:year>.pdf", views.certificate, name="my_certificate"),
    path("people/<int:employee_id>/", views.file_page, name="file"),
    path("people/<int:employee_id>/evidence.json", views.bundle, name="bundle"),
    path("people/<int:employee_id>/transcript.pdf", views.transcript, name="transcript"),
    path("people/<int:employee_id>/credits-<int:year>.pdf", views.certificate, name="certificate"),
]
