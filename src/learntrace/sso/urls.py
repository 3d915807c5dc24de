from django.urls import path

from learntrace.sso import views

app_name = "sso"
urlpatterns = [
    path("oidc/start/", views.oidc_start, name="oidc_start"),
    path("oidc/callback/", views.oidc_callback, name="oidc_callback"),
    path("cas/start/", views.cas_start, name="cas_start"),
    path("cas/callback/", views.cas_callback, name="cas_callback"),
]
