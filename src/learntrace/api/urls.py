from django.urls import path

from learntrace.api import views

app_name = "api"
urlpatterns = [
    path("tokens/", views.tokens_page, name="tokens"),
    path("tokens/<int:token_id>/", views.token_detail, name="token"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("stores/", views.stores, name="stores"),
    path("stores/new/", views.store_edit, name="store_new"),
    path("stores/<int:store_id>/", views.store_detail, name="store"),
    path("stores/<int:store_id>/edit/", views.store_edit, name="store_edit"),
    path("stores/<int:store_id>/resend/", views.store_resend, name="store_resend"),
    path("stores/<int:store_id>/send/", views.store_send, name="store_send"),
    path("credit-export/", views.credit_export, name="credit_export"),
    path("credit-export/<int:export_id>/", views.credit_export_download, name="credit_export_download"),
]
