"""The wish pages: they render, forms post, refusals are shown with a 4xx, lists stay flat."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.helpers import client_for
from tests.wishes import builders as b
from yizhan.wishes.models import Wish

pytestmark = pytest.mark.django_db


def test_rider_posts_a_wish_from_the_page(world):
    client = client_for(world.rider.user)
    page = client.get(reverse("wishes:new"))
    assert page.status_code == 200 and b'name="idempotency_key"' in page.content
    response = client.post(
        reverse("wishes:new"),
        {"category": "health", "text": "想要一个血压计", "idempotency_key": "page-key-0001",
         "photo": b.jpeg()},
    )  # fmt: skip
    wish = Wish.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "wishes:detail", args=[wish.pk]
    )
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and "想要一个血压计" in detail.content.decode()
    mine = client.get(reverse("wishes:mine"))
    assert "想要一个血压计" in mine.content.decode()


@pytest.mark.parametrize("text", ["", "长" * 301])
def test_empty_or_too_long_text_is_shown_on_the_form(world, text):
    response = client_for(world.rider.user).post(
        reverse("wishes:new"),
        {"category": "health", "text": text, "idempotency_key": "page-key-0002"},
    )
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert Wish.objects.count() == 0


def test_over_the_limit_is_a_409_on_the_form(world):
    for n in range(3):
        b.post(world, text=f"心愿{n}")
    response = client_for(world.rider.user).post(
        reverse("wishes:new"),
        {"category": "other", "text": "第四个", "idempotency_key": "page-key-0003"},
    )
    assert response.status_code == 409 and Wish.objects.count() == 3
    assert "errorlist" in response.content.decode()


def test_the_wall_shows_a_masked_surname_only(world):
    b.published(world, text="给孩子买字典", photo=b.jpeg())
    b.post(world, text="还没审核")
    anonymous = client_for(None)
    assert anonymous.get(reverse("wishes:wall")).status_code == 200
    page = anonymous.get(reverse("wishes:wall_community", args=[world.community_a1.code]))
    text = page.content.decode()
    assert page.status_code == 200 and "给孩子买字典" in text and "王**" in text
    assert "王小明" not in text and "还没审核" not in text and "/media/" not in text
    assert "1234" not in text
    assert anonymous.get(reverse("wishes:wall_community", args=["nope"])).status_code == 404
    go = anonymous.get(reverse("wishes:wall") + f"?community={world.community_a1.code}")
    assert go.status_code == 302


def test_claim_fulfil_confirm_through_the_pages(world, volunteer):
    b.pay_rule(world)
    wish = b.published(world)
    helper = client_for(volunteer)
    assert "想要一个新头盔" in helper.get(reverse("wishes:browse")).content.decode()
    assert helper.post(reverse("wishes:claim", args=[wish.pk])).status_code == 302
    assert helper.get(reverse("wishes:claims")).status_code == 200
    assert helper.get(reverse("wishes:fulfil", args=[wish.pk])).status_code == 200
    long = helper.post(reverse("wishes:fulfil", args=[wish.pk]), {"note": "长" * 301})
    assert long.status_code == 400 and "errorlist" in long.content.decode()
    done = helper.post(reverse("wishes:fulfil", args=[wish.pk]), {"note": "送到了"})
    assert done.status_code == 302
    rider = client_for(world.rider.user)
    assert rider.post(reverse("wishes:confirm", args=[wish.pk])).status_code == 302
    wish.refresh_from_db()
    assert wish.status == "confirmed" and wish.points_status == "paid"
    again = rider.post(reverse("wishes:confirm", args=[wish.pk]))
    assert again.status_code == 409 and b"<h1>" in again.content


def test_console_queue_reject_needs_a_reason(world):
    wish = b.post(world, text="不合适的愿望")
    staff = client_for(world.community_staff)
    queue = staff.get(reverse("wishes:console"))
    assert queue.status_code == 200 and "不合适的愿望" in queue.content.decode()
    for show in ("timed_out", "held", "all"):
        assert staff.get(reverse("wishes:console") + f"?show={show}").status_code == 200
    refused = staff.post(reverse("wishes:reject", args=[wish.pk]), {"reason": ""})
    assert refused.status_code == 400 and "errorlist" in refused.content.decode()
    assert Wish.objects.get(pk=wish.pk).status == "pending"
    done = staff.post(reverse("wishes:reject", args=[wish.pk]), {"reason": "不属于微心愿"})
    assert done.status_code == 302
    assert Wish.objects.get(pk=wish.pk).status == "rejected"


def test_console_time_outs_confirm_or_reopen(world, volunteer):
    first = b.timed_out(world, volunteer)
    staff = client_for(world.community_staff)
    page = staff.get(reverse("wishes:console_detail", args=[first.pk]))
    assert page.status_code == 200 and reverse("wishes:reopen", args=[first.pk]) in (
        page.content.decode()
    )
    empty = staff.post(reverse("wishes:reopen", args=[first.pk]), {"note": ""})
    assert empty.status_code == 400
    assert staff.post(reverse("wishes:staff_confirm", args=[first.pk])).status_code == 302
    assert Wish.objects.get(pk=first.pk).status == "confirmed"


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "who, name, args",
    [
        ("staff", "wishes:console", "?show=all"),
        ("staff", "wishes:console", ""),
        ("helper", "wishes:browse", ""),
        ("helper", "wishes:claims", ""),
        ("rider", "wishes:mine", ""),
        ("anonymous", "wishes:wall_community", "a1"),
    ],
)
def test_page_lists_query_counts_do_not_grow(world, volunteer, who, name, args):
    client = client_for(
        {"staff": world.community_staff, "helper": volunteer, "rider": world.rider.user,
         "anonymous": None}[who]
    )  # fmt: skip
    if args == "a1":
        url = reverse(name, args=[world.community_a1.code])
    else:
        url = reverse(name) + args
    b.claimed(world, volunteer)
    b.published(world, text="零")
    b.post(world, text="一")
    few = _count(client, url)
    for i in range(3):
        rider = b.second_rider(world, f"1360000{i:04d}", f"钱{i}")
        b.claimed(world, volunteer, rider)
        b.published(world, rider, text="二")
        b.post(world, rider, text="三")
    assert _count(client, url) == few


def test_admin_lists_and_shows_a_wish_read_only(world, volunteer):
    wish = b.claimed(world, volunteer, photo=b.jpeg())
    staff = client_for(world.community_staff)
    listing = staff.get(reverse("admin:wishes_wish_changelist"))
    assert listing.status_code == 200 and "想要一个新头盔" in listing.content.decode()
    change = staff.get(reverse("admin:wishes_wish_change", args=[wish.pk]))
    assert change.status_code == 200 and "/media/" not in change.content.decode()
    other = client_for(world.other_community_staff)
    assert (
        "想要一个新头盔" not in other.get(reverse("admin:wishes_wish_changelist")).content.decode()
    )
    assert staff.get(reverse("admin:wishes_wishclaim_changelist")).status_code == 200


def test_a_volunteer_logging_in_starts_at_the_wishes_to_claim(world):
    from django.test import Client

    from tests.world import PASSWORD

    b.volunteer(world)
    client = Client()
    response = client.post(
        reverse("people:login"), {"username": "volunteer_a1", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("wishes:browse")
    assert client.get(response["Location"]).status_code == 200
