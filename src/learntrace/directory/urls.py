from django.urls import path

from learntrace.directory import views

app_name = "directory"
urlpatterns = [
    path("sync/", views.sync_now, name="sync"),
    path("events/dingtalk/", views.dingtalk_events, name="dingtalk_events"),
    path("events/wecom/", views.wecom_events, name="wecom_events"),
    path("events/feishu/", views.feishu_events, name="feishu_events"),
]
