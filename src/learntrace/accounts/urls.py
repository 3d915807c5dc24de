from django.contrib.auth import views as auth_views
from django.urls import path

from learntrace.accounts import admin_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/forgot/", views.forgot_password, name="forgot_password"),
    path("link/password/", views.link_password, name="link_password"),
    path("link/<str:token>/", views.open_link, name="link"),
    path("language/", views.change_language, name="language"),
    path("links/new/", admin_views.send_links, name="send_links"),
    path("links/<int:batch_id>/", admin_views.link_batch, name="link_batch"),
    path("signins/", admin_views.signin_log, name="signin_log"),
    path("identities/<int:identity_id>/unlink/", admin_views.unlink_identity, name="unlink_identity"),
]
