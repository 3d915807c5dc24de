from django.urls import path

from learntrace.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:notification_id>/open/", views.notification_open, name="open"),
    path("read/", views.notifications_read, name="read_all"),
    path("channels/", views.channel_list, name="channels"),
    path("channels/new/", views.channel_edit, name="channel_new"),
    path("channels/<int:channel_id>/", views.channel_edit, name="channel_edit"),
    path("plans/<int:plan_id>/", views.plan_reminders, name="plan_reminders"),
    path("plans/<int:plan_id>/new/", views.schedule_edit, name="schedule_new"),
    path("plans/<int:plan_id>/<int:schedule_id>/", views.schedule_edit, name="schedule_edit"),
    path("plans/<int:plan_id>/<int:schedule_id>/delete/", views.schedule_delete, name="schedule_delete"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/resend/", views.delivery_resend, name="resend"),
]
