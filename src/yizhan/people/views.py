"""People pages: log-in, registration (社区报到), the rider's own pages and the staff console.

Views are thin: gate the account type (``core.pages.page``), read through selectors, write
through services, and show a refusal on the form (400) or as an error page (4xx).
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from yizhan.areas.choices import AreaLevel
from yizhan.areas.selectors import areas_in_scope, communities
from yizhan.core import ratelimit
from yizhan.core.audit import history_for
from yizhan.core.errors import ApplicationError
from yizhan.core.home import cards_for
from yizhan.core.pages import back, error_page, form_error, is_htmx, page, run_action
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, can, get_for_user, is_authenticated, is_console_user
from yizhan.core.roles import CONSOLE_ROLES, Role
from yizhan.people import forms, security, selectors, services
from yizhan.people.choices import ClaimStatus, ConsentKind, ConsentSource
from yizhan.people.models import Post, PostClaim, RiderProfile, Team, TwoFactorDevice, User
from yizhan.people.notice import current_notice, notice_for, notices

CONSOLE = tuple(CONSOLE_ROLES)


# --- log-in, language, privacy ----------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "people/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        refusal = getattr(form, "refusal", None)
        if refusal is not None and getattr(refusal, "retry_after", None):
            response.status_code = refusal.status  # 429: locked, with when to try again
            response["Retry-After"] = str(refusal.retry_after)
        return response

    def get_default_redirect_url(self):
        return landing_for(self.request.user)

    def get_success_url(self):
        # A second factor first (people.middleware keeps everything else out until then).
        url = super().get_success_url()
        user = self.request.user
        if security.two_factor_needed(user) and not security.is_verified(self.request):
            name = (
                "people:two_factor_verify" if user.two_factor_enabled else "people:two_factor_enrol"
            )
            return f"{reverse(name)}?{urlencode({'next': url})}"
        return url


def landing_for(user) -> str:
    """Where a signed-in account starts: the console for staff, the rider's page for riders."""
    if is_console_user(user):
        return reverse("people:console")
    if is_authenticated(user) and user.role == Role.RIDER:
        return reverse("people:rider_home")
    # Pages of apps above people, named (not imported): a department's cases, a merchant's
    # corner, the wishes a volunteer may claim.
    start = {
        Role.HANDLER: "reports:cases",
        Role.MERCHANT: "stations:merchant_home",
        Role.VOLUNTEER: "wishes:browse",
    }
    if is_authenticated(user) and user.role in start:
        try:
            return reverse(start[user.role])
        except NoReverseMatch:
            pass
    return reverse("home")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch language: remembered on the account when signed in, in a cookie otherwise."""
    if is_authenticated(request.user):
        try:
            services.user_set_language(user=request.user, language=request.POST.get("language"))
        except ApplicationError as exc:
            return error_page(request, exc)
    return set_language(request)


def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy notice in effect (or an earlier version: ``?version=1``), for anyone."""
    current = current_notice()
    shown = notice_for(request.GET.get("version")) or current
    context = {"notice": shown, "current": current, "versions": notices()}
    return render(request, "people/privacy.html", context)


# --- registration and the rider's own pages ----------------------------------------------------


def register(request: HttpRequest) -> HttpResponse:
    if is_authenticated(request.user):
        messages.info(request, _("You are already signed in."))
        return redirect(landing_for(request.user))
    choices = communities()
    form = forms.RegisterForm(request.POST or None, communities=choices)
    status = 200
    if request.method == "POST":
        try:
            ratelimit.hit_request("register", request, user=False, ip=True)
        except ApplicationError as exc:
            return error_page(request, exc)
        if form.is_valid():
            data = form.cleaned_data
            try:
                rider = services.rider_register(**data)
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                auth_login(request, rider.user, backend="yizhan.people.auth.PhoneOrUsernameBackend")
                messages.success(
                    request,
                    _("Thank you! %(community)s will check your registration soon.")
                    % {"community": rider.community.name},
                )
                return redirect("people:rider_home")
        status = 400
    return render(request, "people/register.html", {"form": form}, status=status)


@page(Role.RIDER)
def rider_home(request: HttpRequest) -> HttpResponse:
    rider = selectors.rider_of(request.user)
    context = {
        "rider": rider,
        "phone": selectors.phone_for(request.user, rider),
        "claims": selectors.claims_of_rider(rider).filter(
            status__in=[ClaimStatus.PENDING, ClaimStatus.APPROVED]
        ),
        "teams": selectors.teams_of_rider(rider),
        "consent": selectors.consent_status(request.user),
        "resubmit_form": forms.ResubmitForm(communities=communities()),
        # What is next for the rider: one card per app, registered with ``core.home``.
        "cards": cards_for(request.user),
    }
    return render(request, "people/rider_home.html", context)


@page(Role.RIDER)
@require_POST
def rider_resubmit(request: HttpRequest) -> HttpResponse:
    rider = selectors.rider_of(request.user)
    form = forms.ResubmitForm(request.POST, communities=communities())
    if not form.is_valid():
        return error_page(
            request,
            ApplicationError(
                _("Please choose a community (社区) to register with."), field="community"
            ),
        )
    refused = run_action(
        request,
        lambda: services.rider_resubmit(
            rider=rider, actor=request.user, community=form.cleaned_data["community"]
        ),
        success=_("Your registration was sent again."),
    )
    return refused or redirect("people:rider_home")


@page(Role.RIDER)
def rider_posts(request: HttpRequest) -> HttpResponse:
    rider = selectors.rider_of(request.user)
    return render(
        request,
        "people/rider_posts.html",
        {"rider": rider, "posts": selectors.posts_for_rider(rider), "form": forms.ClaimForm()},
    )


@page(Role.RIDER)
@require_POST
def rider_claim(request: HttpRequest, post_id: int) -> HttpResponse:
    rider = selectors.rider_of(request.user)
    post = get_for_user(Post, request.user, pk=post_id)
    form = forms.ClaimForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    refused = run_action(
        request,
        lambda: services.post_claim(rider=rider, post=post, actor=request.user, note=note),
        success=_("You claimed %(post)s. The staff will confirm it.")
        % {"post": post.get_kind_display()},
    )
    return refused or redirect("people:rider_posts")


@page(Role.RIDER)
@require_POST
def rider_withdraw(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = get_for_user(
        PostClaim.objects.select_related("rider", "post"), request.user, pk=claim_id
    )
    refused = run_action(
        request,
        lambda: services.post_claim_withdraw(claim=claim, actor=request.user),
        success=_("You gave up %(post)s.") % {"post": claim.post.get_kind_display()},
    )
    return refused or back(request, reverse("people:rider_posts"))


@page(Role.RIDER)
def rider_teams(request: HttpRequest) -> HttpResponse:
    rider = selectors.rider_of(request.user)
    return render(
        request,
        "people/rider_teams.html",
        {"rider": rider, "teams": selectors.teams_of_rider(rider)},
    )


# --- privacy and consent (隐私与授权) -------------------------------------------------------------


@page(Role.RIDER)
def rider_privacy(request: HttpRequest) -> HttpResponse:
    """The notice in effect, the rider's consents, and buttons to give or withdraw them."""
    status = selectors.consent_status(request.user)
    context = {
        "consent": status,
        "notice": status.notice,
        "history": selectors.consents_of(request.user)[:50],
        "unmaskings": _unmaskings(request.user),
    }
    return render(request, "people/rider_privacy.html", context)


def _unmaskings(user) -> list:
    rider = RiderProfile.objects.filter(user=user).first()
    return list(selectors.unmaskings_of(rider)[:20]) if rider else []


@page(Role.RIDER)
@require_POST
def rider_consent(request: HttpRequest) -> HttpResponse:
    form = forms.ConsentForm(request.POST)
    kind = form.cleaned_data["kind"] if form.is_valid() else request.POST.get("kind", "")
    refused = run_action(
        request,
        lambda: services.consent_give(
            user=request.user, actor=request.user, kind=kind, source=ConsentSource.PAGE
        ),
        success=_("Thank you: your consent is recorded.")
        if kind == ConsentKind.PRIVACY
        else _("Yizhan may now use your location as the notice says."),
    )
    return refused or redirect("people:rider_privacy")


@page(Role.RIDER)
@require_POST
def rider_consent_withdraw(request: HttpRequest) -> HttpResponse:
    form = forms.ConsentForm(request.POST)
    kind = form.cleaned_data["kind"] if form.is_valid() else request.POST.get("kind", "")
    refused = run_action(
        request,
        lambda: services.consent_withdraw(
            user=request.user, actor=request.user, kind=kind, source=ConsentSource.PAGE
        ),
        success=_("Your consent is withdrawn. To have your data removed, delete your account.")
        if kind == ConsentKind.PRIVACY
        else _("Yizhan no longer keeps your location."),
    )
    return refused or redirect("people:rider_privacy")


# --- the staff console -------------------------------------------------------------------------


@page(*CONSOLE)
def console(request: HttpRequest) -> HttpResponse:
    return render(
        request, "people/console/home.html", {"summary": selectors.console_summary(request.user)}
    )


@page(*CONSOLE)
def registrations(request: HttpRequest) -> HttpResponse:
    riders = page_of(selectors.pending_registrations(request.user), request)
    return render(
        request,
        "people/console/registrations.html",
        {"page": riders, "reject_form": forms.ReasonForm()},
    )


def _rider_for(request: HttpRequest, rider_id: int, action: Action = Action.VIEW) -> RiderProfile:
    return get_for_user(
        RiderProfile.objects.select_related("user", "community__parent", "grid"),
        request.user,
        action,
        pk=rider_id,
    )


def _registration_answer(request: HttpRequest, rider: RiderProfile) -> HttpResponse:
    if is_htmx(request):
        rider.refresh_from_db()
        return render(request, "people/console/registration_done.html", {"rider": rider})
    return back(request, reverse("people:registrations"))


@page(*CONSOLE)
@require_POST
def rider_verify(request: HttpRequest, rider_id: int) -> HttpResponse:
    rider = _rider_for(request, rider_id, Action.OPERATE)
    refused = run_action(
        request,
        lambda: services.rider_verify(rider=rider, actor=request.user),
        success=_("%(name)s is verified.") % {"name": rider.user.name},
    )
    return refused or _registration_answer(request, rider)


@page(*CONSOLE)
@require_POST
def rider_reject(request: HttpRequest, rider_id: int) -> HttpResponse:
    rider = _rider_for(request, rider_id, Action.OPERATE)
    form = forms.ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    refused = run_action(
        request,
        lambda: services.rider_reject(rider=rider, actor=request.user, reason=reason),
        success=_("%(name)s's registration was rejected.") % {"name": rider.user.name},
    )
    return refused or _registration_answer(request, rider)


@page(*CONSOLE)
def riders(request: HttpRequest) -> HttpResponse:
    scope = areas_in_scope(request.user, levels=(AreaLevel.COMMUNITY, AreaLevel.GRID))
    filters = forms.RiderFilterForm(request.GET or None, areas=scope)
    wanted = filters.filters() if request.GET else {}
    rows = selectors.riders_for_user(
        request.user,
        status=wanted.get("status"),
        area_code=wanted.get("area"),
        platform=wanted.get("platform"),
        post_kind=wanted.get("post"),
        q=wanted.get("q"),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "people/console/riders.html",
        {"page": page_of(rows, request), "filters": filters, "query": query.urlencode()},
    )


@page(*CONSOLE)
def rider_detail(request: HttpRequest, rider_id: int) -> HttpResponse:
    rider = _rider_for(request, rider_id)
    grids = areas_in_scope(request.user, levels=(AreaLevel.GRID,))
    context = {
        "rider": rider,
        "phone": selectors.phone_for(request.user, rider),
        "may_unmask": selectors.may_unmask(request.user, rider),
        "unmask_form": forms.UnmaskForm(),
        "consent": selectors.consent_status(rider.user),
        "claims": selectors.claims_of_rider(rider),
        "teams": selectors.teams_of_rider(rider),
        "history": history_for(rider)[:50],
        "move_form": forms.MoveForm(grids=grids, initial={"grid": rider.grid_id}),
        "reject_form": forms.ReasonForm(),
        "can_operate": can(request.user, Action.OPERATE, rider),
        "locked": security.is_locked(rider.user),
    }
    return render(request, "people/console/rider_detail.html", context)


@page(*CONSOLE)
@require_POST
def rider_phone(request: HttpRequest, rider_id: int) -> HttpResponse:
    """Show a rider's full number to staff who may act on the rider, for a logged reason.

    Answers the htmx form with the number in place of the mask; a plain form gets a small page.
    Never cached.
    """
    rider = _rider_for(request, rider_id, Action.OPERATE)
    form = forms.UnmaskForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    try:
        phone = services.rider_phone_unmask(
            rider=rider,
            actor=request.user,
            reason=data.get("reason") or request.POST.get("reason"),
            note=data.get("note") or request.POST.get("note"),
        )
    except ApplicationError as exc:
        return error_page(request, exc)
    template = (
        "people/console/_phone_shown.html" if is_htmx(request) else "people/console/phone.html"
    )
    response = render(request, template, {"rider": rider, "phone": phone})
    response["Cache-Control"] = "no-store"
    return response


@page(*CONSOLE)
@require_POST
def rider_move(request: HttpRequest, rider_id: int) -> HttpResponse:
    rider = _rider_for(request, rider_id, Action.OPERATE)
    form = forms.MoveForm(request.POST, grids=areas_in_scope(request.user, levels=("grid",)))
    if not form.is_valid():
        return error_page(
            request, ApplicationError(_("Please choose a grid."), code="not_a_grid", field="grid")
        )
    grid = form.cleaned_data["grid"]
    refused = run_action(
        request,
        lambda: services.rider_move_grid(
            rider=rider, grid=grid, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        success=_("%(name)s now belongs to %(grid)s.") % {"name": rider.user.name, "grid": grid},
    )
    return refused or redirect("people:rider_detail", rider_id=rider.pk)


@page(*CONSOLE)
def claims(request: HttpRequest) -> HttpResponse:
    rows = selectors.claims_for_user(
        request.user, status=ClaimStatus.PENDING, action=Action.OPERATE
    )
    return render(
        request,
        "people/console/claims.html",
        {"page": page_of(rows, request), "reject_form": forms.OptionalReasonForm()},
    )


def _claim_answer(request: HttpRequest, claim: PostClaim) -> HttpResponse:
    if is_htmx(request):
        claim.refresh_from_db()
        return render(request, "people/console/claim_done.html", {"claim": claim})
    return back(request, reverse("people:claims"))


def _claim_for(request: HttpRequest, claim_id: int) -> PostClaim:
    return get_for_user(
        PostClaim.objects.select_related("post", "rider__user"),
        request.user,
        Action.OPERATE,
        pk=claim_id,
    )


@page(*CONSOLE)
@require_POST
def claim_approve(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = _claim_for(request, claim_id)
    refused = run_action(
        request,
        lambda: services.post_claim_approve(claim=claim, actor=request.user),
        success=_("%(name)s now holds %(post)s.")
        % {"name": claim.rider.user.name, "post": claim.post.get_kind_display()},
    )
    return refused or _claim_answer(request, claim)


@page(*CONSOLE)
@require_POST
def claim_reject(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = _claim_for(request, claim_id)
    form = forms.OptionalReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    refused = run_action(
        request,
        lambda: services.post_claim_reject(claim=claim, actor=request.user, reason=reason),
        success=_("The claim was turned down."),
    )
    return refused or _claim_answer(request, claim)


@page(*CONSOLE)
def posts(request: HttpRequest) -> HttpResponse:
    scope = areas_in_scope(request.user, levels=(AreaLevel.COMMUNITY,))
    form = forms.PostCreateForm(request.POST or None, communities=scope)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                post = services.post_create(**form.cleaned_data, actor=request.user)
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("%(post)s was created.") % {"post": post})
                return redirect("people:posts")
        status = 400
    rows = selectors.posts_for_user(request.user, action=Action.CONFIGURE)
    return render(
        request,
        "people/console/posts.html",
        {"page": page_of(rows, request), "form": form},
        status=status,
    )


@page(*CONSOLE)
@require_POST
def post_update(request: HttpRequest, post_id: int) -> HttpResponse:
    post = get_for_user(Post.objects.select_related("community"), request.user, pk=post_id)
    form = forms.PostUpdateForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return error_page(request, ApplicationError(first, code="invalid"))
    refused = run_action(
        request,
        lambda: services.post_update(post=post, actor=request.user, **form.cleaned_data),
        success=_("%(post)s was saved.") % {"post": post},
    )
    return refused or back(request, reverse("people:posts"))


@page(*CONSOLE)
def teams(request: HttpRequest) -> HttpResponse:
    scope = areas_in_scope(request.user)
    form = forms.TeamCreateForm(request.POST or None, areas=scope)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                team = services.team_create(**form.cleaned_data, actor=request.user)
            except ApplicationError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("The team %(team)s was created.") % {"team": team})
                return redirect("people:team_detail", team_id=team.pk)
        status = 400
    rows = selectors.teams_for_user(request.user, action=Action.OPERATE)
    return render(
        request,
        "people/console/teams.html",
        {"page": page_of(rows, request), "form": form},
        status=status,
    )


def _team_for(request: HttpRequest, team_id: int, action: Action = Action.VIEW) -> Team:
    return get_for_user(
        Team.objects.select_related("area", "leader__user"), request.user, action, pk=team_id
    )


@page(*CONSOLE)
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_for(request, team_id)
    members = selectors.team_members(team)
    context = {
        "team": team,
        "members": members,
        "member_form": forms.TeamMemberForm(riders=selectors.team_candidates(request.user, team)),
        "leader_form": forms.LeaderForm(
            riders=RiderProfile.objects.filter(memberships__team=team).select_related(
                "user", "community", "grid"
            ),
            initial={"rider": team.leader_id},
        ),
    }
    return render(request, "people/console/team_detail.html", context)


@page(*CONSOLE)
@require_POST
def team_add_member(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_for(request, team_id, Action.CONFIGURE)
    form = forms.TeamMemberForm(request.POST, riders=selectors.team_candidates(request.user, team))
    if not form.is_valid():
        return error_page(
            request,
            ApplicationError(_("Please choose a verified rider of this area."), field="rider"),
        )
    rider = form.cleaned_data["rider"]
    refused = run_action(
        request,
        lambda: services.team_add_member(
            team=team, rider=rider, actor=request.user, leader=form.cleaned_data["leader"]
        ),
        success=_("%(name)s joined %(team)s.") % {"name": rider.user.name, "team": team},
    )
    return refused or redirect("people:team_detail", team_id=team.pk)


@page(*CONSOLE)
@require_POST
def team_remove_member(request: HttpRequest, team_id: int, rider_id: int) -> HttpResponse:
    team = _team_for(request, team_id, Action.CONFIGURE)
    membership = team.memberships.filter(rider_id=rider_id).select_related("team", "rider__user")
    membership = membership.first()
    if membership is None:
        return error_page(
            request,
            ApplicationError(_("The rider is not in this team."), code="not_member", status=404),
        )
    refused = run_action(
        request,
        lambda: services.team_remove_member(membership=membership, actor=request.user),
        success=_("%(name)s left %(team)s.") % {"name": membership.rider.user.name, "team": team},
    )
    return refused or redirect("people:team_detail", team_id=team.pk)


@page(*CONSOLE)
@require_POST
def team_leader(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_for(request, team_id, Action.CONFIGURE)
    members = RiderProfile.objects.filter(memberships__team=team)
    form = forms.LeaderForm(request.POST, riders=members)
    if not form.is_valid():
        return error_page(
            request,
            ApplicationError(_("The leader must be a member of the team."), code="not_member"),
        )
    rider = form.cleaned_data["rider"]
    refused = run_action(
        request,
        lambda: services.team_set_leader(team=team, rider=rider, actor=request.user),
        success=_("%(name)s leads %(team)s now.") % {"name": rider.user.name, "team": team},
    )
    return refused or redirect("people:team_detail", team_id=team.pk)


# --- account security: two-factor log-in, unlocking -----------------------------------------------

TWO_FACTOR_ROLES = (Role.STAFF, Role.HANDLER, Role.ADMIN)


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@page(*TWO_FACTOR_ROLES)
def account_security(request: HttpRequest) -> HttpResponse:
    """Two-factor log-in on or off, recovery codes left; new recovery codes."""
    user = request.user
    form = forms.CodeForm(request.POST or None)
    codes = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                codes = security.recovery_codes_renew(user=user, code=form.cleaned_data["code"])
            except ApplicationError as exc:
                form_error(form, exc)
                status = exc.status
        else:
            status = 400
    context = {
        "form": form if codes is None else forms.CodeForm(),
        "codes": codes,
        "left": security.recovery_codes_left(user) if user.two_factor_enabled else 0,
        "required": security.two_factor_required(user),
    }
    return render(request, "people/security.html", context, status=status)


@page(*TWO_FACTOR_ROLES)
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: a QR code (and the key to type), then one code to confirm;
    the recovery codes are shown once."""
    user = request.user
    if user.two_factor_enabled:
        messages.info(request, _("Two-factor log-in is already on."))
        return redirect("people:account_security")
    form = forms.CodeForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            codes = security.two_factor_confirm(user=user, code=form.cleaned_data["code"])
        except ApplicationError as exc:
            form_error(form, exc)
            status = exc.status
        else:
            security.mark_verified(request)
            context = {"codes": codes, "next": _next_url(request, landing_for(user))}
            return render(request, "people/two_factor_codes.html", context)
    elif request.method == "POST":
        status = 400
    device = TwoFactorDevice.objects.filter(user=user).first()
    if request.method == "GET" or device is None:
        device = security.two_factor_begin(user=user)  # a fresh key on every visit
    uri = security.provisioning_uri(device)
    context = {
        "form": form,
        "qr": segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
        "secret": device.secret,
        "required": security.two_factor_required(user),
    }
    return render(request, "people/two_factor_enrol.html", context, status=status)


@page()
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a log-in: a code from the app, or a recovery code."""
    user = request.user
    fallback = landing_for(user)
    if not user.two_factor_enabled:
        return redirect("people:two_factor_enrol" if security.two_factor_needed(user) else fallback)
    if security.is_verified(request):
        return redirect(_next_url(request, fallback))
    form = forms.CodeForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                used = security.two_factor_verify(user=user, code=form.cleaned_data["code"])
            except ApplicationError as exc:
                if getattr(exc, "retry_after", None):
                    return error_page(request, exc)
                form_error(form, exc)
                status = exc.status
            else:
                security.mark_verified(request)
                if used == "recovery":
                    messages.warning(
                        request,
                        _("You used a recovery code: %(n)s left.")
                        % {"n": security.recovery_codes_left(user)},
                    )
                return redirect(_next_url(request, fallback))
        else:
            status = 400
    return render(request, "people/two_factor_verify.html", {"form": form}, status=status)


@page(*TWO_FACTOR_ROLES)
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = forms.CodeForm(request.POST)
    code = form.cleaned_data["code"] if form.is_valid() else ""
    refused = run_action(
        request,
        lambda: security.two_factor_disable(user=request.user, code=code),
        success=_("Two-factor log-in is off."),
    )
    return refused or redirect("people:account_security")


@page(*CONSOLE)
@require_POST
def account_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    """Lift a log-in lockout (staff of the account's area)."""
    account = get_for_user(User, request.user, Action.OPERATE, pk=user_id)
    refused = run_action(
        request,
        lambda: security.account_unlock(user=account, actor=request.user),
        success=_("%(name)s can log in again.") % {"name": account},
    )
    return refused or back(request, reverse("people:console"))
