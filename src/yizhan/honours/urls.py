from django.urls import path

from yizhan.honours import views

app_name = "honours"

urlpatterns = [
    # Public: the honour roll of each street (no login), and the rider's own honours.
    path("honours/", views.roll_index, name="roll_index"),
    path("honours/mine/", views.mine, name="mine"),
    path("honours/<str:street>/", views.roll, name="roll"),
    # The staff console.
    path("console/honours/", views.titles, name="titles"),
    path("console/honours/approvals/", views.approvals, name="approvals"),
    path("console/honours/<int:title_id>/", views.title, name="title"),
    path("console/honours/<int:title_id>/nominate/", views.nominate, name="nominate"),
    path(
        "console/honours/nominations/<int:nomination_id>/approve/",
        views.approve,
        name="approve",
    ),
    path("console/honours/nominations/<int:nomination_id>/reject/", views.reject, name="reject"),
]
