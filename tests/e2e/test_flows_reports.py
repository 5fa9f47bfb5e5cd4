"""Flow: a rider reports a problem with a photo (随手拍), community staff dispatch it from the
triage queue to a department, the department's handler reports it handled with an "after"
photo, staff check it on site, and the rider's points arrive exactly once."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.helpers import A1_SPOT, jpeg, t, watched
from tests.world import report_objects
from yizhan.points.models import EarningRule
from yizhan.points.selectors import balance_of
from yizhan.reports.choices import PointsStatus, ReportStatus
from yizhan.reports.models import Report

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CATEGORY = "flying_wire"  # 飞线充电: no other report of it in street A


def test_a_report_goes_from_photo_to_points_once(
    world, password, new_context, shot, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    objects = report_objects(world)
    category = objects["categories"][CATEGORY]
    rule = EarningRule.objects.get(
        street=world.street_a, activity="report_verified", category=CATEGORY, is_active=True
    )
    balance_before = balance_of(world.rider.user)

    rider = new_context(phone=True, permissions=["geolocation"], geolocation=A1_SPOT).new_page()
    staff = new_context(phone=False).new_page()
    handler = new_context(phone=True).new_page()  # a field worker's phone, with its camera
    problems = watched(rider, staff, handler, shot=shot)
    look = problems.look

    # 1. The rider reports it: a photo, the phone's location, the category, a description.
    log_in(rider, "13812341234", password, expect=r"/rider/")
    rider.goto("/report/")
    expect(rider.locator("h1")).to_have_text(t("Report a problem (随手拍)"))
    rider.set_input_files("#id_photos", jpeg(4242))
    expect(rider.locator("#photo-previews img")).to_have_count(1)
    # The browser already allows the location: the form takes it at once (or on a tap).
    if not rider.input_value("#id_lat"):
        rider.get_by_role("button", name=t("Use my location")).click()
    expect(rider.locator("#id_lat")).to_have_value(re.compile(r"^40\.0955"))
    # The categories follow the place (htmx): street A's, with 飞线充电 among them.
    expect(rider.locator("[data-testid=place]")).to_contain_text(world.street_a.name)
    rider.select_option("#id_category", str(category.pk))
    rider.fill("#id_description", "三号楼二层窗口拉线给电动车充电")
    rider.fill("#id_address", "甲一路 12 号")
    look(rider, "1-report-form")
    rider.get_by_role("button", name=t("Send the report")).click()
    rider.wait_for_url(re.compile(r"/reports/\d+/done/$"))
    report = Report.objects.get(pk=int(re.search(r"/reports/(\d+)/", rider.url).group(1)))
    assert report.reporter_id == world.rider.user.pk and report.category_id == category.pk
    assert report.status == ReportStatus.SUBMITTED and not report.flags
    assert report.community_id == world.community_a1.pk
    look(rider, "2-report-sent")

    # 2. Community staff find it in the triage queue and dispatch it to 城管队.
    log_in(staff, "staff_a1", password, expect=r"/console/")
    staff.get_by_role("link", name=t("Reports"), exact=True).first.click()
    staff.wait_for_url(re.compile(r"/console/reports/$"))
    row = staff.locator(f"#report-{report.pk}")
    expect(row).to_contain_text(category.name)
    expect(row.locator("img")).to_have_count(1)  # the photo's thumbnail
    look(staff, "3-triage-queue")
    row.get_by_role("link", name=re.compile(rf"#{report.pk}\b")).click()
    staff.wait_for_url(re.compile(rf"/console/reports/{report.pk}/$"))
    dispatch = staff.locator("#act-dispatch")
    dispatch.get_by_label(t("Department")).select_option(str(objects["department"].pk))
    # Not get_by_label: every action form's note is "id_note", so the dispatch form's label
    # points to the accept form's textarea (reported as a bug).
    dispatch.locator("textarea[name=note]").fill("请尽快处理飞线")
    look(staff, "4-report-to-dispatch")
    dispatch.get_by_role("button", name=t("Dispatch")).click()
    expect(staff.locator("[data-testid=status]")).to_have_text(str(ReportStatus.DISPATCHED.label))
    look(staff, "5-report-dispatched")

    # 3. The handler of 城管队 finds the case, fixes it and reports it handled with a photo.
    log_in(handler, "handler_a", password, expect=r"/cases/")
    case = handler.locator("[data-testid=case-row]", has_text=f"#{report.pk} ")
    expect(case).to_contain_text(category.name)
    look(handler, "6-handler-cases")
    case.get_by_role("link").click()
    handler.wait_for_url(re.compile(rf"/cases/{report.pk}/$"))
    handler.set_input_files("#id_photos", jpeg(4243, name="after.jpg"))
    handler.get_by_label(t("What was done")).fill("已拆除飞线，通知物业加装充电桩")
    look(handler, "7-handler-case")
    handler.get_by_role("button", name=t("Report it handled")).click()
    handler.wait_for_url(re.compile(r"/cases/$"))
    expect(handler.locator("ul.messages")).to_contain_text(f"#{report.pk}")
    expect(case).to_have_count(0)
    look(handler, "8-handler-done")

    # 4. Staff check it on site: fixed. The points are paid.
    staff.reload()
    expect(staff.locator("[data-testid=status]")).to_have_text(str(ReportStatus.HANDLED.label))
    verify = staff.locator("#act-verify")
    verify.get_by_label(t("Yes: fixed")).check()
    verify.get_by_label(t("Note")).fill("现场核查：飞线已拆除")
    look(staff, "9-report-to-verify")
    verify.get_by_role("button", name=t("Record the check")).click()
    expect(staff.locator("[data-testid=status]")).to_have_text(str(ReportStatus.VERIFIED.label))
    expect(staff.locator("[data-testid=chips]")).to_contain_text(str(PointsStatus.PAID.label))
    look(staff, "10-report-verified")

    # 5. The rider sees the points arrive, once: one posting for the report, and the balance
    #    up by the rule's amount, however often the page is loaded.
    reason = t("Report #%(id)s verified: %(category)s") % {
        "id": report.pk,
        "category": category.name,
    }
    rider.goto("/rider/points/")
    for load in range(3):
        if load:
            rider.reload()
        expect(rider.locator("[data-testid=balance]")).to_have_text(
            str(balance_before + rule.points)
        )
        postings = rider.locator("tr[id^=posting-]", has_text=reason)
        expect(postings).to_have_count(1)
        expect(postings.locator(".amount")).to_have_text(f"+{rule.points}")
    look(rider, "11-rider-points")
    assert balance_of(world.rider.user) == balance_before + rule.points

    # The rider's own page of the report tells the same story.
    rider.goto(f"/reports/{report.pk}/")
    expect(rider.locator("body")).to_contain_text(str(ReportStatus.VERIFIED.label))
    look(rider, "12-rider-report")
    problems.check()
