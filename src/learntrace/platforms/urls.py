from django.urls import path

from learntrace.platforms import views

app_name = "platforms"
urlpatterns = [
    path("dingtalk/in-app/", views.dingtalk_in_app, name="dingtalk_in_app"),
]
for _platform in ("dingtalk", "wecom", "feishu"):
    urlpatterns += [
        path(f"{_platform}/start/", views.start, {"platform": _platform}, name=f"{_platform}_start"),
        path(f"{_platform}/callback/", views.callback, {"platform": _platform}, name=f"{_platform}_callback"),
    ]
