from django.urls import path

from learntrace.home import views

app_name = "home"
urlpatterns = [
    path("", views.home, name="home"),
    path("system/", views.system, name="system"),
    path("system/ping/", views.ping_worker, name="ping_worker"),
    path("audit/", views.audit_trail, name="audit"),
    path("favicon.ico", views.favicon, name="favicon"),
]
