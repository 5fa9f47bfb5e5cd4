from django.urls import path

from yizhan.organisation import views

app_name = "organisation"

# The staff console only: nothing of the pipeline is on a public or a rider's page.
urlpatterns = [
    path("console/organisation/", views.index, name="index"),
    path("console/organisation/streets/<str:code>/", views.street, name="street"),
    path("console/organisation/streets/<str:code>/switch/", views.switch, name="switch"),
    path(
        "console/organisation/streets/<str:code>/branches/",
        views.branch_create,
        name="branch_create",
    ),
    path("console/organisation/branches/<int:branch_id>/", views.branch, name="branch"),
    path(
        "console/organisation/branches/<int:branch_id>/staff/",
        views.staff_add,
        name="staff_add",
    ),
    path(
        "console/organisation/branches/<int:branch_id>/staff/<int:user_id>/remove/",
        views.staff_remove,
        name="staff_remove",
    ),
    path(
        "console/organisation/branches/<int:branch_id>/records/",
        views.record_open,
        name="record_open",
    ),
    path("console/organisation/records/<int:record_id>/", views.record, name="record"),
    path("console/organisation/records/<int:record_id>/advance/", views.advance, name="advance"),
    path("console/organisation/records/<int:record_id>/close/", views.close, name="close"),
    path(
        "console/organisation/records/<int:record_id>/transfer/",
        views.transfer,
        name="transfer",
    ),
]
