"""The appeal pages: they render, forms post, refusals come back as 400 with the message."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.helpers import client_for
from tests.appeals.builders import raise_appeal
from yizhan.appeals.models import Appeal, Decision

pytestmark = pytest.mark.django_db


def test_rider_raises_sees_and_rates(world, made):
    rider = client_for(world.rider.user)
    page = rider.get(reverse("appeals:new"))
    assert page.status_code == 200 and b"idempotency_key" in page.content
    bad = rider.post(
        reverse("appeals:new"),
        {"difficulty": "rights", "topic": "pay", "text": "", "idempotency_key": "page-0000001"},
    )
    assert bad.status_code == 400 and b"errorlist" in bad.content
    before = Appeal.objects.count()
    ok = rider.post(
        reverse("appeals:new"),
        {"difficulty": "skills", "topic": "other", "text": "想考电工证",
         "idempotency_key": "page-0000002"},
    )  # fmt: skip
    assert ok.status_code == 302 and Appeal.objects.count() == before + 1
    mine = rider.get(reverse("appeals:mine"))
    assert "想考电工证".encode() in mine.content
    detail = rider.get(reverse("appeals:detail", args=[made["answered"].pk]))
    assert b"appeals/%d/rate/" % made["answered"].pk in detail.content
    early = rider.post(reverse("appeals:rate", args=[made["routed"].pk]), {"stars": "5"})
    assert early.status_code == 409
    done = rider.post(reverse("appeals:rate", args=[made["answered"].pk]), {"stars": "1"})
    assert done.status_code == 302
    assert Appeal.objects.get(pk=made["answered"].pk).status == "reopened"
    twice = rider.post(reverse("appeals:rate", args=[made["answered"].pk]), {"stars": "3"})
    assert twice.status_code == 409 and "您已评价过该答复".encode() in twice.content


def test_staff_queue_filters_and_detail_actions(world, made):
    staff = client_for(world.community_staff)
    queue = staff.get(reverse("appeals:queue") + "?difficulty=meal_rest")
    assert queue.status_code == 200
    assert "驿站没有热水".encode() in queue.content
    assert "事故后平台不赔".encode() not in queue.content
    assert "王小明".encode() not in queue.content  # the anonymous one
    out = staff.post(
        reverse("appeals:route", args=[made["submitted"].pk]),
        {"body": made["court"].pk, "days": "5"},
    )
    assert out.status_code == 400  # not offered: outside the appeal's area
    out = staff.post(
        reverse("appeals:route", args=[made["submitted"].pk]),
        {"body": made["union"].pk, "days": "500"},
    )
    assert out.status_code == 400
    out = staff.post(
        reverse("appeals:route", args=[made["submitted"].pk]),
        {"body": made["union"].pk, "days": "5"},
    )
    assert out.status_code == 302
    out = staff.post(reverse("appeals:deliver", args=[made["routed"].pk]), {"kind": "care"})
    assert out.status_code == 400
    out = staff.post(reverse("appeals:close", args=[made["routed"].pk]), {"note": ""})
    assert out.status_code == 400
    page = staff.get(reverse("appeals:console_detail", args=[made["routed"].pk]))
    assert page.status_code == 200 and b"route" in page.content


def test_handler_pages(world, made):
    handler = client_for(made["handler"])
    listed = handler.get(reverse("appeals:cases"))
    assert listed.status_code == 200 and "事故后平台不赔".encode() in listed.content
    page = handler.get(reverse("appeals:case", args=[made["routed"].pk]))
    assert page.status_code == 200
    bad = handler.post(reverse("appeals:case_answer", args=[made["routed"].pk]), {"text": ""})
    assert bad.status_code == 400
    ok = handler.post(reverse("appeals:case_answer", args=[made["routed"].pk]), {"text": "已处理"})
    assert ok.status_code == 302
    other = client_for(made["court_handler"])
    denied = other.post(reverse("appeals:case_answer", args=[made["routed"].pk]), {"text": "x"})
    assert denied.status_code == 404


def test_meeting_pages(world, made):
    staff = client_for(world.community_staff)
    assert staff.get(reverse("appeals:meeting_new")).status_code == 200
    meeting = made["meeting"]
    page = staff.get(reverse("appeals:meeting_detail", args=[meeting.pk]))
    assert page.status_code == 200 and "工会一周内约谈平台".encode() in page.content
    out = staff.post(
        reverse("appeals:decision_add", args=[meeting.pk]),
        {"text": "落实", "owner_name": "", "due_on": "2099-01-01"},
    )
    assert out.status_code == 400 and b"owner" in out.content
    out = staff.post(reverse("appeals:agenda_add", args=[meeting.pk]), {"appeal": made["a2"].pk})
    assert out.status_code == 400
    out = staff.post(reverse("appeals:minutes", args=[meeting.pk]), {"minutes": ""})
    assert out.status_code == 400
    decisions = staff.get(reverse("appeals:decisions") + "?status=open")
    assert decisions.status_code == 200
    out = staff.post(reverse("appeals:follow_up", args=[made["decision"].pk]), {"note": ""})
    assert out.status_code == 400
    out = staff.post(
        reverse("appeals:follow_up", args=[made["decision"].pk]), {"note": "完成", "done": "on"}
    )
    assert out.status_code == 302
    assert Decision.objects.get(pk=made["decision"].pk).status == "done"


def test_queue_page_queries_do_not_grow(world, body):
    staff = client_for(world.community_staff)
    raise_appeal(world.rider.user)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(reverse("appeals:queue")).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(5):
        raise_appeal(world.rider.user, text=f"诉求{n}")
    assert count() == few
