from django.urls import path

from learntrace.evidence import views

app_name = "evidence"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("verify/", views.verify, name="verify"),
    path("public-key.pem", views.public_key, name="public_key"),
    path("archives/<int:number>/", views.archive_file, name="archive_file"),
]
