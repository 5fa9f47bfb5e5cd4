"""Flow: a rider registers on a phone, community staff verify the registration in the
console, the rider claims a post, staff approve the claim, and the rider holds the post."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.helpers import A1_SPOT, t, watched
from yizhan.people.choices import ClaimStatus, RegistrationStatus
from yizhan.people.models import PostClaim, RiderProfile

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE_NUMBER = "13566667777"


def test_a_rider_registers_is_verified_and_holds_a_post(world, password, new_context, shot):
    # The rider, on a phone that may tell the page where it is.
    rider = new_context(phone=True, permissions=["geolocation"], geolocation=A1_SPOT).new_page()
    staff = new_context(phone=False).new_page()
    problems = watched(rider, staff, shot=shot)
    look = problems.look

    # 1. Registration (社区报到): the form, the location from the phone, the privacy consent.
    rider.goto("/register/")
    expect(rider.locator("h1")).to_have_text(t("Register with your community (社区报到)"))
    rider.fill("#id_name", "钱新骑")
    rider.fill("#id_phone", PHONE_NUMBER)
    rider.fill("#id_password", password)
    rider.select_option("#id_platform", "meituan")
    rider.select_option("#id_occupation", "food_delivery")
    rider.select_option("#id_vehicle", "e_bike")
    rider.get_by_role("button", name=t("Use my current location")).click()
    # The point fills the coordinates and chooses the community it lies in.
    expect(rider.locator("#id_community")).to_have_value(world.community_a1.code)
    expect(rider.locator("#work-map-status")).to_contain_text(world.community_a1.name)
    assert float(rider.input_value("#id_work_lat")) == pytest.approx(A1_SPOT["latitude"])
    rider.fill("#id_work_address", "甲一路一带")
    rider.check("#id_consent")
    look(rider, "1-register-form")
    rider.get_by_role("button", name=t("Register"), exact=True).click()
    rider.wait_for_url(re.compile(r"/rider/$"))
    status = rider.locator("#status-h")
    expect(status).to_contain_text(str(RegistrationStatus.PENDING.label))
    look(rider, "2-rider-home-pending")
    profile = RiderProfile.objects.get(user__name="钱新骑")
    assert profile.status == "pending" and profile.community_id == world.community_a1.pk

    # 2. Community staff verify it in the console's registrations.
    log_in(staff, "staff_a1", password, expect=r"/console/")
    staff.get_by_role("link", name=t("Registrations"), exact=True).first.click()
    row = staff.locator(f"#registration-{profile.pk}")
    expect(row).to_contain_text("钱新骑")
    expect(row).to_contain_text(world.community_a1.name)
    look(staff, "3-console-registrations")
    row.get_by_role("button", name=t("Verify"), exact=True).click()
    # htmx answers in the row's decision cell.
    expect(row.locator("td.decision")).not_to_contain_text(t("Reject"))
    look(staff, "4-console-verified")
    profile.refresh_from_db()
    assert profile.status == "verified"

    # 3. The rider sees it and claims the post of the community.
    rider.reload()
    expect(status).to_contain_text(str(RegistrationStatus.VERIFIED.label))
    rider.get_by_role("link", name=t("Claim a post")).click()
    rider.wait_for_url(re.compile(r"/rider/posts/$"))
    card = rider.locator("section.card", has_text=world.post.get_kind_display())
    card.get_by_label(t("A word to the staff (optional)")).fill("下午有空")
    look(rider, "5-rider-posts")
    card.get_by_role("button", name=t("Claim this post")).click()
    expect(card).to_contain_text(t("Withdraw my claim"))
    claim = PostClaim.objects.get(rider=profile, post=world.post)
    assert claim.status == "pending"
    look(rider, "6-rider-claimed")

    # 4. Staff approve the claim.
    staff.get_by_role("link", name=t("Post approvals"), exact=True).first.click()
    row = staff.locator(f"#claim-{claim.pk}")
    expect(row).to_contain_text("钱新骑")
    expect(row).to_contain_text("下午有空")
    look(staff, "7-console-claims")
    row.get_by_role("button", name=t("Approve"), exact=True).click()
    expect(row.get_by_role("button", name=t("Approve"), exact=True)).to_have_count(0)
    look(staff, "8-console-claim-approved")
    claim.refresh_from_db()
    assert claim.status == "approved"

    # 5. The rider holds the post, and was placed in the grid where they work.
    rider.goto("/rider/")
    posts = rider.locator("section[aria-labelledby=posts-h]")
    expect(posts).to_contain_text(world.post.get_kind_display())
    expect(posts).to_contain_text(str(ClaimStatus.APPROVED.label))
    expect(rider.locator("dl.facts")).to_contain_text(world.grid_a1_east.name)
    look(rider, "9-rider-holds-post")
    rider.goto("/rider/posts/")
    expect(card).to_contain_text(t("Give up this post"))
    problems.check()
