from django.urls import path

from yizhan.points import views

app_name = "points"

urlpatterns = [
    # The rider's pages (mobile first).
    path("rider/points/", views.rider_points, name="rider_points"),
    path("rider/leaderboard/", views.leaderboard, name="leaderboard"),
    # The staff console.
    path("console/points/", views.ledger, name="ledger"),
    path(
        "console/points/<int:posting_id>/reverse/",
        views.posting_reverse,
        name="posting_reverse",
    ),
    path("console/points/award/", views.award, name="award"),
    path("console/points/approvals/", views.approvals, name="approvals"),
    path(
        "console/points/approvals/<int:award_id>/approve/",
        views.award_approve,
        name="award_approve",
    ),
    path(
        "console/points/approvals/<int:award_id>/reject/",
        views.award_reject,
        name="award_reject",
    ),
    path("console/points/rules/", views.rules, name="rules"),
    path("console/points/settings/", views.settings_update, name="settings"),
    path("console/leaderboard/", views.console_leaderboard, name="console_leaderboard"),
]
