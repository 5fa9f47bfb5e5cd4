from django.urls import path

from yizhan.appeals import views

app_name = "appeals"

urlpatterns = [
    # The rider's pages (mobile first).
    path("appeals/", views.mine, name="mine"),
    path("appeals/new/", views.new, name="new"),
    path("appeals/<int:appeal_id>/", views.detail, name="detail"),
    path("appeals/<int:appeal_id>/rate/", views.rate, name="rate"),
    # The responsible body's pages (department handlers).
    path("appeals/body/", views.cases, name="cases"),
    path("appeals/body/<int:appeal_id>/", views.case, name="case"),
    path("appeals/body/<int:appeal_id>/answer/", views.case_answer, name="case_answer"),
    # The staff console: appeals.
    path("console/appeals/", views.queue, name="queue"),
    path("console/appeals/<int:appeal_id>/", views.console_detail, name="console_detail"),
    path("console/appeals/<int:appeal_id>/route/", views.route, name="route"),
    path("console/appeals/<int:appeal_id>/answer/", views.answer, name="answer"),
    path("console/appeals/<int:appeal_id>/deliveries/", views.deliver, name="deliver"),
    path("console/appeals/<int:appeal_id>/close/", views.close, name="close"),
    # The staff console: joint meetings.
    path("console/meetings/", views.meetings, name="meetings"),
    path("console/meetings/new/", views.meeting_new, name="meeting_new"),
    path("console/meetings/decisions/", views.decisions, name="decisions"),
    path(
        "console/meetings/decisions/<int:decision_id>/follow-up/",
        views.follow_up,
        name="follow_up",
    ),
    path("console/meetings/<int:meeting_id>/", views.meeting_detail, name="meeting_detail"),
    path("console/meetings/<int:meeting_id>/agenda/", views.agenda_add, name="agenda_add"),
    path("console/meetings/<int:meeting_id>/minutes/", views.minutes, name="minutes"),
    path(
        "console/meetings/<int:meeting_id>/participants/",
        views.participants,
        name="participants",
    ),
    path("console/meetings/<int:meeting_id>/decisions/", views.decision_add, name="decision_add"),
]
