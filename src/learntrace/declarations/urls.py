from django.urls import path

from learntrace.declarations import views

app_name = "declarations"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("review/", views.review, name="review"),
    path("bulk/", views.bulk, name="bulk"),
    path("<int:declaration_id>/", views.detail, name="detail"),
    path("<int:declaration_id>/edit/", views.edit, name="edit"),
    path("<int:declaration_id>/certificate", views.certificate, name="certificate"),
    path("<int:declaration_id>/approve/", views.decide, {"decision": "approve"}, name="approve"),
    path("<int:declaration_id>/return/", views.decide, {"decision": "return"}, name="return"),
    path("facts/<int:fact_id>/", views.fact, name="fact"),
]
