from django.urls import path

from learntrace.checkin import views

app_name = "checkin"
urlpatterns = [
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/new/", views.meeting_edit, name="meeting_new"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:meeting_id>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:meeting_id>/projector/", views.projector, name="projector"),
    path("meetings/<int:meeting_id>/projector/state/", views.projector_state, name="projector_state"),
    path("meetings/<int:meeting_id>/checkout/", views.toggle_checkout, name="toggle_checkout"),
    path("meetings/<int:meeting_id>/manual/", views.manual_entry, name="manual"),
    path("meetings/<int:meeting_id>/signatures/<int:attendance_id>.png", views.signature, name="signature"),
    path("meetings/<int:meeting_id>/attendance.xlsx", views.export, name="export"),
    path("suspicious/", views.suspicious, name="suspicious"),
    path("s/<int:meeting_id>/<str:token>/", views.scan, name="scan"),
    path("code/", views.by_code, name="code"),
    path("t/<str:ticket>/", views.ticket, name="ticket"),
]
