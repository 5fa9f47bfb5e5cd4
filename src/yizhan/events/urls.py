from django.urls import path

from yizhan.events import views

app_name = "events"

urlpatterns = [
    # The rider's pages (mobile first).
    path("events/", views.upcoming, name="list"),
    path("events/mine/", views.mine, name="mine"),
    path("events/<int:event_id>/", views.detail, name="detail"),
    path("events/<int:event_id>/signup/", views.signup, name="signup"),
    path("events/<int:event_id>/cancel/", views.cancel, name="cancel"),
    # The rotating check-in QR code's target.
    path("events/<int:event_id>/checkin/<str:token>/", views.check_in, name="check_in"),
    # The staff console.
    path("console/events/", views.console_list, name="console_list"),
    path("console/events/new/", views.create, name="create"),
    path("console/events/handouts/", views.handouts, name="handouts"),
    path("console/events/handouts/<int:distribution_id>/", views.handout, name="handout"),
    path("console/events/handouts/<int:distribution_id>/receipt/", views.receipt, name="receipt"),
    path("console/events/handouts/<int:distribution_id>/items/", views.restock, name="restock"),
    path("console/events/<int:event_id>/", views.signups, name="signups"),
    path("console/events/<int:event_id>/edit/", views.edit, name="edit"),
    path("console/events/<int:event_id>/call-off/", views.call_off, name="call_off"),
    path("console/events/<int:event_id>/checkin/", views.door, name="door"),
]
