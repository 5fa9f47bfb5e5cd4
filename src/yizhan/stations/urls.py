from django.urls import path

from yizhan.stations import views

app_name = "stations"

urlpatterns = [
    # Everyone (mobile first): the 15-minute service circle and a station's page.
    path("nearby/", views.nearby, name="nearby"),
    path("stations/<int:station_id>/", views.detail, name="detail"),
    # The check-in QR code's target (riders).
    path("s/<int:station_id>/<str:token>/", views.check_in, name="check_in"),
    # The staff console.
    path("console/stations/", views.console_list, name="console_list"),
    path("console/stations/new/", views.create, name="create"),
    path("console/stations/import/", views.station_import, name="import"),
    path("console/stations/import/template/", views.import_template, name="import_template"),
    path("console/stations/export/", views.station_export, name="export"),
    path("console/stations/checklist/", views.checklist, name="checklist"),
    path("console/stations/checklist/<int:item_id>/", views.checklist_item, name="checklist_item"),
    path("console/stations/<int:station_id>/", views.edit, name="edit"),
    path(
        "console/stations/<int:station_id>/exceptions/",
        views.exception_add,
        name="exception_add",
    ),
    path(
        "console/stations/<int:station_id>/exceptions/remove/",
        views.exception_remove,
        name="exception_remove",
    ),
    path("console/stations/<int:station_id>/photos/", views.photo_add, name="photo_add"),
    path(
        "console/stations/<int:station_id>/photos/<int:photo_id>/remove/",
        views.photo_remove,
        name="photo_remove",
    ),
    path("console/stations/<int:station_id>/visits/", views.visits, name="visits"),
    path("console/stations/<int:station_id>/inspections/", views.inspections, name="inspections"),
    path("console/stations/<int:station_id>/inspect/", views.inspect, name="inspect"),
    path("console/stations/<int:station_id>/qr/", views.qr, name="qr"),
    path("console/stations/<int:station_id>/qr/replace/", views.qr_rotate, name="qr_rotate"),
    # The host merchant's phone pages.
    path("merchant/", views.merchant_home, name="merchant_home"),
    path("merchant/stations/<int:station_id>/", views.merchant_station, name="merchant_station"),
    path("merchant/stations/<int:station_id>/walk-in/", views.walk_in, name="walk_in"),
]
