"""The landing page. It lives in ``config`` because it introduces every app (and the demo)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yizhan.people.views import landing_for


def home(request: HttpRequest) -> HttpResponse:
    context = {"start_url": landing_for(request.user)}
    if settings.DEMO_MODE:
        from yizhan.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

        context.update(demo_accounts=DEMO_ACCOUNTS, demo_password=DEMO_PASSWORD)
    return render(request, "core/home.html", context)
