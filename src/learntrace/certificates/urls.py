from django.urls import path

from learntrace.certificates import views

app_name = "certificates"
urlpatterns = [
    path("", views.certificate_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("<int:certificate_id>/", views.certificate, name="certificate"),
    path("<int:certificate_id>/revoke/", views.revoke, name="revoke"),
    path("<int:certificate_id>/certificate.pdf", views.certificate_download, name="pdf"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("kinds/new/", views.kind_edit, name="kind_new"),
    path("kinds/<int:kind_id>/", views.kind_edit, name="kind_edit"),
]
