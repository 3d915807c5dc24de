from django.urls import path

from learntrace.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscription_list, name="subscriptions"),
    path("new/", views.subscription_edit, name="subscription_new"),
    path("<int:subscription_id>/", views.subscription_edit, name="subscription_edit"),
    path("<int:subscription_id>/rotate/", views.subscription_rotate, name="subscription_rotate"),
    path("<int:subscription_id>/delete/", views.subscription_delete, name="subscription_delete"),
    path("<int:subscription_id>/test/", views.subscription_test, name="subscription_test"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/resend/", views.delivery_resend, name="resend"),
]
