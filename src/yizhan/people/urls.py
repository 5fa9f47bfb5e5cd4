from django.contrib.auth import views as auth_views
from django.urls import path

from yizhan.people import views

app_name = "people"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language, name="language"),
    path("privacy/", views.privacy, name="privacy"),
    # Account security: two-factor log-in (staff), unlocking after failed log-ins.
    path("account/security/", views.account_security, name="account_security"),
    path("account/two-factor/enrol/", views.two_factor_enrol, name="two_factor_enrol"),
    path("account/two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    # The rider's pages (mobile first).
    path("register/", views.register, name="register"),
    path("rider/", views.rider_home, name="rider_home"),
    path("rider/resubmit/", views.rider_resubmit, name="rider_resubmit"),
    path("rider/posts/", views.rider_posts, name="rider_posts"),
    path("rider/posts/<int:post_id>/claim/", views.rider_claim, name="rider_claim"),
    path("rider/claims/<int:claim_id>/withdraw/", views.rider_withdraw, name="rider_withdraw"),
    path("rider/teams/", views.rider_teams, name="rider_teams"),
    path("rider/privacy/", views.rider_privacy, name="rider_privacy"),
    path("rider/privacy/consent/", views.rider_consent, name="rider_consent"),
    path("rider/privacy/withdraw/", views.rider_consent_withdraw, name="rider_consent_withdraw"),
    # The staff console.
    path("console/", views.console, name="console"),
    path("console/registrations/", views.registrations, name="registrations"),
    path("console/riders/", views.riders, name="riders"),
    path("console/riders/<int:rider_id>/", views.rider_detail, name="rider_detail"),
    path("console/riders/<int:rider_id>/verify/", views.rider_verify, name="rider_verify"),
    path("console/riders/<int:rider_id>/reject/", views.rider_reject, name="rider_reject"),
    path("console/riders/<int:rider_id>/move/", views.rider_move, name="rider_move"),
    path("console/riders/<int:rider_id>/phone/", views.rider_phone, name="rider_phone"),
    path("console/accounts/<int:user_id>/unlock/", views.account_unlock, name="account_unlock"),
    path("console/claims/", views.claims, name="claims"),
    path("console/claims/<int:claim_id>/approve/", views.claim_approve, name="claim_approve"),
    path("console/claims/<int:claim_id>/reject/", views.claim_reject, name="claim_reject"),
    path("console/posts/", views.posts, name="posts"),
    path("console/posts/<int:post_id>/", views.post_update, name="post_update"),
    path("console/teams/", views.teams, name="teams"),
    path("console/teams/<int:team_id>/", views.team_detail, name="team_detail"),
    path("console/teams/<int:team_id>/members/", views.team_add_member, name="team_add_member"),
    path(
        "console/teams/<int:team_id>/members/<int:rider_id>/remove/",
        views.team_remove_member,
        name="team_remove_member",
    ),
    path("console/teams/<int:team_id>/leader/", views.team_leader, name="team_leader"),
]
