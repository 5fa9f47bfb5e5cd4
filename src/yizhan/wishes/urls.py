from django.urls import path

from yizhan.wishes import views

app_name = "wishes"

urlpatterns = [
    # The public wall (no log-in).
    path("wishes/wall/", views.wall, name="wall"),
    path("wishes/wall/<str:code>/", views.wall_community, name="wall_community"),
    # The rider's pages (mobile first).
    path("wishes/mine/", views.mine, name="mine"),
    path("wishes/new/", views.new, name="new"),
    path("wishes/<int:wish_id>/", views.detail, name="detail"),
    path("wishes/<int:wish_id>/withdraw/", views.withdraw, name="withdraw"),
    path("wishes/<int:wish_id>/confirm/", views.confirm, name="confirm"),
    # Claimers: volunteers, merchants, staff.
    path("wishes/claim/", views.browse, name="browse"),
    path("wishes/claims/", views.claims, name="claims"),
    path("wishes/<int:wish_id>/claim/", views.claim, name="claim"),
    path("wishes/<int:wish_id>/release/", views.release, name="release"),
    path("wishes/<int:wish_id>/fulfil/", views.fulfil, name="fulfil"),
    # The staff console.
    path("console/wishes/", views.console, name="console"),
    path("console/wishes/<int:wish_id>/", views.console_detail, name="console_detail"),
    path("console/wishes/<int:wish_id>/approve/", views.approve, name="approve"),
    path("console/wishes/<int:wish_id>/reject/", views.reject, name="reject"),
    path("console/wishes/<int:wish_id>/confirm/", views.staff_confirm, name="staff_confirm"),
    path("console/wishes/<int:wish_id>/reopen/", views.reopen, name="reopen"),
    path("console/wishes/<int:wish_id>/points/", views.points, name="points"),
]
