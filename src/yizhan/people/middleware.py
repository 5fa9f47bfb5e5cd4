"""Two-factor log-in: after the password, an account that needs a second factor reaches
nothing but the verification page (or, when its role requires one it has not set up, the
enrolment page), log-out, the language switch and the privacy notice."""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from yizhan.people import security

OPEN_PAGES = frozenset(
    {
        "people:two_factor_verify",
        "people:two_factor_enrol",
        "people:logout",
        "people:language",
        "people:privacy",
    }
)


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and security.two_factor_needed(user)
            and not security.is_verified(request)
        ):
            try:
                name = resolve(request.path_info).view_name
            except Resolver404:
                name = ""
            if name not in OPEN_PAGES:
                return self._fence(request, user)
        return self.get_response(request)

    def _fence(self, request, user):
        enrolled = user.two_factor_enabled
        if request.path_info.startswith("/api/"):
            message = (
                _("Please enter your two-factor code first.")
                if enrolled
                else _("Your account must set up two-factor log-in first.")
            )
            return JsonResponse(
                {"code": "two_factor_required", "message": message, "detail": None}, status=403
            )
        target = reverse("people:two_factor_verify" if enrolled else "people:two_factor_enrol")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
