from django.urls import path

from learntrace.onlineattendance import views

app_name = "onlineattendance"
urlpatterns = [
    path("meetings/<int:meeting_id>/", views.meeting, name="meeting"),
    path("meetings/<int:meeting_id>/upload/", views.upload, name="upload"),
    path("meetings/<int:meeting_id>/fetch/", views.fetch, name="fetch"),
    path("imports/<int:import_id>/", views.review, name="review"),
    path("imports/<int:import_id>/apply/", views.apply, name="apply"),
    path("imports/<int:import_id>/discard/", views.discard, name="discard"),
]
