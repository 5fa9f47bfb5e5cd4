"""The organisation API: shapes, masking, refusals as ``{code, message, detail}``, the switch and
query counts independent of the page size."""

from datetime import timedelta

from django.utils import timezone

from tests.api.helpers import call, client_for
from tests.organisation.builders import a1_rider, open_record, street_branch
from tests.organisation.matrix import snapshot
from yizhan.organisation import services


def _refused(client, method, path, body, status, code):
    before = snapshot()
    response = call(client, method, path, body)
    assert response.status_code == status, response.content
    payload = response.json()
    assert set(payload) == {"code", "message", "detail"} and payload["code"] == code
    assert snapshot() == before
    return payload


def test_records_are_listed_masked_and_shown_whole_to_the_branchs_staff(world):
    branch = street_branch(world)
    record = open_record(world, branch)
    client = client_for(world.community_staff)
    listing = client.get("/api/v1/organisation/records", {"stage": "applicant"}).json()
    assert listing["count"] == 1
    item = listing["items"][0]
    assert item["name"] == "王**" and item["community"]["code"] == world.community_a1.code
    assert "王小明" not in str(listing)
    detail = client.get(f"/api/v1/organisation/records/{record.pk}").json()
    assert detail["full_name"] == "王小明"
    assert [e["kind"] for e in detail["history"]] == ["opened"]
    assert client.get("/api/v1/organisation/records", {"stage": "full"}).json()["count"] == 0
    # Admins get an empty list (counts only, on the street).
    admin = client_for(world.street_admin)
    assert admin.get("/api/v1/organisation/records").json()["count"] == 0
    street = admin.get(f"/api/v1/organisation/streets/{world.street_a.code}").json()
    assert street["enabled"] is True and street["counts"]["applicant"] == 1


def test_open_advance_close_through_the_api(world):
    branch = street_branch(world)
    client = client_for(world.community_staff)
    today = timezone.localdate()
    response = call(client, "POST", "/api/v1/organisation/records", {
        "branch_id": branch.pk, "rider_id": world.rider.pk,
        "applied_on": (today - timedelta(days=30)).isoformat(), "note": "递交申请书",
    })  # fmt: skip
    assert response.status_code == 201, response.content
    record_id = response.json()["id"]
    path = f"/api/v1/organisation/records/{record_id}"
    body = {"stage": "activist", "on": (today - timedelta(days=10)).isoformat()}
    advanced = call(client, "POST", f"{path}/advance", body).json()
    assert advanced["stage"] == "activist" and advanced["activist_on"] == body["on"]
    _refused(client, "POST", f"{path}/advance", {"stage": "probationary", "on": str(today)},
             409, "out_of_order")  # fmt: skip
    _refused(
        client,
        "POST",
        f"{path}/advance",
        {"stage": "candidate", "on": str(today + timedelta(days=1))},
        400,
        "future_date",
    )
    _refused(
        client,
        "POST",
        f"{path}/advance",
        {"stage": "candidate", "on": str(today - timedelta(days=11))},
        400,
        "before_previous",
    )
    closed = call(client, "POST", f"{path}/close", {"reason": "本人申请撤回", "on": str(today)})
    assert closed.json()["status"] == "closed"
    assert [e["kind"] for e in closed.json()["history"]] == ["opened", "advanced", "closed"]


def test_bad_applications_are_refused(world):
    branch = street_branch(world)
    open_record(world, branch)
    client = client_for(world.community_staff)
    today = str(timezone.localdate())
    path = "/api/v1/organisation/records"
    _refused(client, "POST", path,
             {"branch_id": branch.pk, "rider_id": world.rider.pk, "applied_on": today},
             409, "already_in_pipeline")  # fmt: skip
    outside = services.branch_create(
        area=world.community_a2, name="甲二社区党支部", actor=world.street_admin
    )
    services.branch_staff_add(branch=outside, user=world.street_admin, actor=world.street_admin)
    admin = client_for(world.street_admin)
    extra = a1_rider(world)
    _refused(admin, "POST", path,
             {"branch_id": outside.pk, "rider_id": extra.pk, "applied_on": today},
             400, "outside_branch_area")  # fmt: skip
    _refused(client, "POST", path,
             {"branch_id": branch.pk, "rider_id": world.pending_rider.pk, "applied_on": today},
             400, "not_verified")  # fmt: skip


def test_a_street_whose_switch_is_off_answers_404(world):
    branch = street_branch(world)
    record = open_record(world, branch)
    admin = client_for(world.street_admin)
    off = call(admin, "PUT", f"/api/v1/organisation/streets/{world.street_a.code}",
               {"enabled": False}).json()  # fmt: skip
    assert (off["enabled"], off["counts"], off["street"]["code"]) == (
        False,
        None,
        world.street_a.code,
    )
    staff = client_for(world.community_staff)
    for path in (f"/api/v1/organisation/records/{record.pk}",
                 f"/api/v1/organisation/branches/{branch.pk}"):  # fmt: skip
        assert staff.get(path).status_code == 404
    assert staff.get("/api/v1/organisation/records").json()["count"] == 0
    assert admin.get("/api/v1/organisation/branches").json()["count"] == 0
    _refused(admin, "POST", "/api/v1/organisation/branches",
             {"area": world.street_a.code, "name": "新支部"}, 404, "module_off")  # fmt: skip


def test_branches_with_counts_and_staff(world):
    branch = street_branch(world)
    open_record(world, branch)
    services.branch_staff_add(
        branch=branch, user=world.other_community_staff, actor=world.street_admin
    )
    admin = client_for(world.street_admin)
    listing = admin.get("/api/v1/organisation/branches").json()
    assert listing["count"] == 1
    item = listing["items"][0]
    assert (item["staff_count"], item["counts"]["applicant"]) == (2, 1)
    detail = admin.get(f"/api/v1/organisation/branches/{branch.pk}").json()
    assert [s["username"] for s in detail["staff"]] == ["staff_a1", "staff_a2"]
    _refused(admin, "POST", f"/api/v1/organisation/branches/{branch.pk}/staff",
             {"user_id": world.rider.user.pk}, 400, "not_eligible")  # fmt: skip


def test_record_list_queries_do_not_grow_with_the_page_size(world, django_assert_num_queries):
    branch = street_branch(world)
    for i in range(12):
        rider = a1_rider(world, phone=f"1350000{i:04d}", name=f"骑手{i}")
        open_record(world, branch, rider, applied=i)
    client = client_for(world.community_staff)
    with django_assert_num_queries(4) as small:
        client.get("/api/v1/organisation/records", {"page_size": 2})
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/api/v1/organisation/records", {"page_size": 12})
    assert len(response.json()["items"]) == 12
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/api/v1/organisation/branches", {"page_size": 12})
