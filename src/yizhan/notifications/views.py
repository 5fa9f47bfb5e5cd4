"""The inbox: everyone signed in reads their messages, unread first, and marks them read.

Thin like every page: ``notifications.selectors`` reads (only one's own messages), the services
mark read. Marking one read answers htmx with the message drawn again (and the new unread count
for the top bar); without JavaScript it is a plain form that comes back to the inbox.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.core.errors import ApplicationError
from yizhan.core.pages import back, error_page, is_htmx, page
from yizhan.core.pagination import page_of
from yizhan.core.permissions import Action, get_for_user
from yizhan.notifications import selectors, services


@page()
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    messages_ = selectors.inbox(user).order_by(
        Case(
            When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
        "-created_at",
        "-id",
    )
    listed = page_of(messages_, request)
    return render(
        request,
        "notifications/inbox.html",
        {"page": listed, "unread": selectors.unread_count(user)},
    )


@page()
@require_POST
def read(request: HttpRequest, notification_id: int) -> HttpResponse:
    user = request.user
    notification = get_for_user(selectors.inbox(user), user, Action.OPERATE, pk=notification_id)
    try:
        notification = services.notification_read(notification=notification, user=user)
    except ApplicationError as exc:
        return error_page(request, exc)
    if is_htmx(request):
        return render(
            request,
            "notifications/_read.html",
            {"n": notification, "unread": selectors.unread_count(user)},
        )
    return back(request, reverse("notifications:inbox"))


@page()
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    try:
        count = services.notifications_read_all(user=request.user)
    except ApplicationError as exc:
        return error_page(request, exc)
    if count:
        messages.success(request, _("%(n)s messages marked read.") % {"n": count})
    return redirect("notifications:inbox")
