from django.urls import path

from yizhan.oversight import views

app_name = "oversight"

urlpatterns = [
    path("console/review/", views.queue, name="queue"),
    path(
        "console/review/<str:kind>/<int:item_id>/decide/",
        views.decide,
        name="decide",
    ),
    path("console/audit/", views.audit, name="audit"),
    path("console/audit/export/", views.audit_export, name="audit_export"),
]
