"""The installable app and offline capture, in a real Chromium on a phone-sized page.

The service worker must control the page before the network goes: each test opens a page
online first (as a rider would have), waits for ``navigator.serviceWorker.ready``, then takes
the browser offline with Playwright's ``context.set_offline``.
"""

from __future__ import annotations

import base64
import io
import os
import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from PIL import Image

from tests.e2e.conftest import log_in
from yizhan.reports import services as report_services
from yizhan.reports.models import Report, ReportPhoto
from yizhan.stations import services as station_services
from yizhan.stations.models import Visit

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RIDER_PHONE = "13812341234"
#: The outbox is empty: asked of IndexedDB itself (the header's badge starts hidden on a page
#: that has just loaded, before the script has counted).
GONE = "() => window.YizhanOutbox && window.YizhanOutbox.count().then(n => n === 0)"


def big_jpeg(tmp_path, *, taken: datetime) -> str:
    """A 12-megapixel-ish camera photo (3000 × 2250) with the EXIF time the camera wrote."""
    image = Image.radial_gradient("L").resize((3000, 2250)).convert("RGB")
    exif = Image.Exif()
    exif[0x0132] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTime
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    path = tmp_path / "camera.jpg"
    image.save(path, "JPEG", quality=95, exif=exif)
    return str(path)


@pytest.fixture
def street(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    categories = report_services.categories_seed(street=world.street_a, actor=world.street_admin)
    return {c.code: c for c in categories}


def ready(page) -> None:
    """Wait until the service worker controls the page. It claims the open pages when it
    activates; a page that loaded before that is reloaded once, as a browser would next time."""
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
        timeout=45_000,
    )


def wait_sent(page, timeout: int = 45_000) -> None:
    """Wait until the outbox is empty, asking IndexedDB itself (the header's badge starts hidden
    on a page that has just loaded, before the script has counted); on a time-out, say what it
    still holds."""
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        if page.evaluate(GONE):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the outbox still holds {outbox_items(page)}")


def outbox_items(page) -> list[dict]:
    return page.evaluate(
        """() => window.YizhanOutbox.all().then(items => items.map(i => (
             {key: i.key, kind: i.kind, state: i.state, message: i.message,
              files: (i.files || []).map(f => f.blob.size)})))"""
    )


def fill_report(page, street, photo: str, *, text: str = "楼道里堆满纸箱，挡住了消防通道") -> None:
    page.goto("/report/")
    page.set_input_files("#id_photos", photo)
    # Choosing the community reloads its categories (htmx): choose one after the reload, or
    # the new list replaces the choice.
    with page.expect_response("**/report/categories/**"):
        page.select_option("#id_community", "440000001001")
    page.wait_for_load_state("networkidle")
    wanted = street["stairwell_clutter"].pk
    page.wait_for_selector(f"select[name=category] option[value='{wanted}']", state="attached")
    page.select_option("select[name=category]", str(street["stairwell_clutter"].pk))
    page.fill("#id_description", text)


def keep_a_report_offline(phone, password, street, tmp_path) -> None:
    """The rider logs in, opens the report form online, fills it, and sends it offline."""
    photo = big_jpeg(tmp_path, taken=timezone.localtime())
    log_in(phone, RIDER_PHONE, password, expect=r"/rider/")
    phone.goto("/report/")
    ready(phone)
    fill_report(phone, street, photo)
    phone.context.set_offline(True)
    phone.click("#report-submit")
    phone.locator("#report-kept").wait_for(state="visible")


def test_the_app_is_installable(world, password, phone, shot):
    manifest = phone.request.get("/manifest.webmanifest")
    assert manifest.status == 200
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    data = manifest.json()
    assert data["short_name"] == "驿站" and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in data["icons"])
    for icon in data["icons"]:
        assert phone.request.get(icon["src"]).status == 200
    log_in(phone, RIDER_PHONE, password, expect=r"/rider/")
    assert phone.locator("link[rel=manifest]").get_attribute("href") == "/manifest.webmanifest"
    ready(phone)
    scope = phone.evaluate("navigator.serviceWorker.getRegistration().then(r => r.scope)")
    assert scope.endswith("/")
    # The shell is cached: the offline page answers without a network.
    phone.context.set_offline(True)
    phone.goto("/somewhere-never-visited/")
    assert phone.locator("h1").inner_text() == "无法连接网络"
    shot(phone, "offline-page")
    # A page the rider opened before comes from the phone, as last seen.
    phone.goto("/rider/")
    assert phone.locator("h1").inner_text() == "王小明"
    phone.context.set_offline(False)


def test_a_report_made_offline_arrives_once(world, password, street, phone, shot, tmp_path):
    taken = timezone.localtime() - timedelta(minutes=20)
    photo = big_jpeg(tmp_path, taken=taken)
    original_size = (tmp_path / "camera.jpg").stat().st_size
    log_in(phone, RIDER_PHONE, password, expect=r"/rider/")
    shot(phone, "home")
    phone.goto("/report/")
    ready(phone)
    fill_report(phone, street, photo)
    shot(phone, "report-form")

    phone.context.set_offline(True)
    phone.click("#report-submit")
    kept = phone.locator("#report-kept")
    kept.wait_for(state="visible")
    assert "保存在手机上" in kept.inner_text()
    assert phone.locator("#outbox-count").inner_text() == "1"
    shot(phone, "kept-offline")
    [item] = outbox_items(phone)
    assert item["kind"] == "report" and item["state"] == "waiting"
    # The photo was scaled down on the phone before it was kept.
    assert item["files"][0] < original_size / 3
    assert Report.objects.count() == 0
    # A copy of the kept item (photos included) in the page's memory, to send it again below.
    phone.evaluate(
        "key => window.YizhanOutbox.get(key).then(i => { window.__kept = i; })", item["key"]
    )

    sent = []
    phone.on(
        "request",
        lambda r: sent.append(r) if r.method == "POST" and r.url.endswith("/report/") else None,
    )
    phone.context.set_offline(False)
    wait_sent(phone)
    assert Report.objects.count() == 1
    report = Report.objects.get()
    assert report.description == "楼道里堆满纸箱，挡住了消防通道"
    assert report.reporter_id == world.rider.user_id
    assert report.captured_at is not None
    assert abs((report.captured_at - timezone.now()).total_seconds()) < 120
    # The camera's EXIF survived the scaling: the server read the time the photo was taken.
    assert report.photo_taken_at is not None
    assert abs((report.photo_taken_at - taken).total_seconds()) < 2
    stored = ReportPhoto.objects.get(report=report, stage="report")
    with Image.open(stored.image.path) as image:
        assert max(image.size) <= 1920
    assert len(sent) == 1

    # The same item sent again (as after an answer lost on the way back) makes no second report.
    phone.evaluate(
        """() => { const item = window.__kept; item.state = 'waiting';
                   return window.YizhanOutbox.add(item)
                     .then(() => window.YizhanOutbox.flush()); }"""
    )
    wait_sent(phone)
    assert Report.objects.count() == 1
    assert len(sent) == 2
    phone.goto("/reports/mine/")
    shot(phone, "my-reports")


def test_a_station_check_in_scanned_offline_counts_once(world, password, phone, shot):
    from tests.world import station_objects

    station = station_objects(world)["corner"]
    url = f"/s/{station.pk}/{station_services.qr_token(station)}/"
    log_in(phone, RIDER_PHONE, password, expect=r"/rider/")
    ready(phone)
    phone.context.set_offline(True)
    phone.goto(url)
    phone.locator("#offline-checkin").wait_for(state="visible")
    shot(phone, "offline-check-in")
    phone.click("#offline-checkin-button")
    phone.locator("#offline-checkin-done").wait_for(state="visible")
    before = Visit.objects.filter(station=station, rider=world.rider.user).count()
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    wait_sent(phone)
    visits = Visit.objects.filter(station=station, rider=world.rider.user)
    assert visits.count() == before + 1
    assert visits.order_by("-created_at").first().day == timezone.localdate()


def test_a_session_that_expired_offline_loses_nothing(
    world, password, street, phone, shot, tmp_path
):
    keep_a_report_offline(phone, password, street, tmp_path)
    # Logged out elsewhere (or the session expired) while the phone was offline.
    phone.context.clear_cookies(name="sessionid")  # the session ends; the CSRF cookie stays
    phone.context.set_offline(False)
    phone.goto("/outbox/")
    phone.locator(".outbox-item.state-login").wait_for()
    assert "重新登录" in phone.locator(".outbox-item").inner_text()
    shot(phone, "outbox-log-in-again")
    assert Report.objects.count() == 0
    phone.click(".outbox-item a.button")  # 登录
    phone.fill("input[name=username]", RIDER_PHONE)
    phone.fill("input[name=password]", password)
    phone.click("main form.card button[type=submit]")
    phone.wait_for_url("**/outbox/")
    wait_sent(phone)
    assert Report.objects.count() == 1


def test_a_queued_report_whose_category_was_removed(world, password, street, phone, shot, tmp_path):
    keep_a_report_offline(phone, password, street, tmp_path)
    report_services.category_update(
        category=street["stairwell_clutter"], actor=world.street_admin, is_active=False
    )
    phone.context.set_offline(False)
    phone.goto("/outbox/")
    phone.locator(".outbox-item.state-attention").wait_for(timeout=45_000)
    text = phone.locator(".outbox-item").inner_text()
    assert "未被接受" in text or "没有接受" in text
    shot(phone, "outbox-needs-attention")
    assert Report.objects.count() == 0
    # Change it and send again: the form comes back filled, photos included.
    phone.click(".outbox-item a.button")
    phone.wait_for_url("**/report/?outbox=*")
    phone.locator("#report-restored").wait_for(state="visible")
    assert phone.input_value("#id_description") == "楼道里堆满纸箱，挡住了消防通道"
    assert phone.evaluate("document.getElementById('id_photos').files.length") == 1
    other = street["bad_parking"]
    phone.wait_for_selector(f"select[name=category] option[value='{other.pk}']", state="attached")
    phone.select_option("select[name=category]", str(other.pk))
    shot(phone, "restored-form")
    phone.click("#report-submit")
    phone.wait_for_url("**/done/")
    assert Report.objects.filter(category=other).count() == 1
    phone.goto("/outbox/")
    assert phone.locator(".outbox-item").count() == 0


def test_an_online_refusal_shows_the_form_as_a_plain_submit_would(world, password, street, phone):
    """A bad answer online (the form with what to correct) is shown as a plain submit shows it."""
    log_in(phone, RIDER_PHONE, password, expect=r"/rider/")
    phone.goto("/report/")
    phone.select_option("#id_community", "440000001001")
    phone.fill("#id_description", "没有选类别")
    phone.click("#report-submit")
    phone.locator("[data-testid=form-error]").wait_for()
    assert Report.objects.count() == 0
    assert phone.locator("#report-submit").is_enabled()


def test_denied_location_offers_the_manual_way(world, password, street, new_context):
    context = new_context(phone=True)  # no geolocation permission granted
    page = context.new_page()
    log_in(page, RIDER_PHONE, password, expect=r"/rider/")
    page.goto("/report/")
    page.click("#use-my-location")
    status = page.locator("#report-location-status")
    status.wait_for()
    page.wait_for_function(
        "() => document.getElementById('report-location-status').textContent.includes('社区')"
    )
    assert page.locator("#id_community").is_visible()


def test_the_album_is_the_way_when_the_camera_is_refused(
    world, password, street, new_context, shot, tmp_path
):
    """The photo input opens the camera directly; a photo already taken, or a camera refused
    to the browser, goes through 从相册选择: the same input, opened without ``capture``."""
    context = new_context(phone=True)  # no camera permission granted
    page = context.new_page()
    log_in(page, RIDER_PHONE, password, expect=r"/rider/")
    page.goto("/report/")
    assert page.get_attribute("#id_photos", "capture") == "environment"
    page.evaluate(
        """() => document.getElementById('id_photos').addEventListener('click', e => {
             window.captureAtClick = e.target.hasAttribute('capture'); })"""
    )
    album = page.locator("#id_photos-album")
    assert album.is_visible() and album.bounding_box()["height"] >= 44
    with page.expect_file_chooser() as chooser:
        album.click()
    assert page.evaluate("() => window.captureAtClick") is False  # the album, not the camera
    chooser.value.set_files(big_jpeg(tmp_path, taken=timezone.localtime()))
    page.locator("#photo-previews li").first.wait_for()
    assert page.get_attribute("#id_photos", "capture") == "environment"  # the camera next time
    shot(page, "album")


def test_a_big_photo_is_scaled_on_the_phone_an_undecodable_one_left_to_the_server(
    world, password, phone
):
    log_in(phone, RIDER_PHONE, password, expect=r"/rider/")
    phone.goto("/report/")
    buf = io.BytesIO()
    noise = Image.frombytes("RGB", (2400, 1800), os.urandom(2400 * 1800 * 3))
    noise.save(buf, "JPEG", quality=90)
    sizes = phone.evaluate(
        """async (b64) => {
             const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
             const file = new File([bytes], 'x.jpg', {type: 'image/jpeg'});
             const small = await window.YizhanOutbox.scalePhoto(file);
             const bmp = await createImageBitmap(small);
             const broken = new File([bytes.slice(0, 5000)], 'broken.jpg', {type: 'image/jpeg'});
             const same = await window.YizhanOutbox.scalePhoto(broken);
             return [file.size, small.size, bmp.width, bmp.height, same === broken];
           }""",
        base64.b64encode(buf.getvalue()).decode(),
    )
    original, scaled, width, height, untouched = sizes
    assert scaled < original and (width, height) == (1920, 1440)
    assert untouched  # a photo the phone cannot decode goes as it is: the server decides


def test_a_shared_phone_sends_a_kept_report_only_as_the_rider_who_made_it(
    world, password, street, phone, tmp_path
):
    keep_a_report_offline(phone, password, street, tmp_path)
    # Before it is sent, the rider's session ends and another rider logs in on the same phone.
    phone.context.clear_cookies(name="sessionid")  # the session ends; the CSRF cookie stays
    phone.context.set_offline(False)
    log_in(phone, "13812345678", password, expect=r"/rider/")
    phone.goto("/outbox/")
    phone.locator(".outbox-item.state-other").wait_for(timeout=45_000)
    assert "另一个账号" in phone.locator(".outbox-item").inner_text()
    assert Report.objects.count() == 0
    # Back to the rider who made it: sent, as theirs.
    phone.context.clear_cookies(name="sessionid")  # the session ends; the CSRF cookie stays
    log_in(phone, RIDER_PHONE, password, expect=r"/rider/")
    phone.goto("/outbox/")
    wait_sent(phone)
    assert Report.objects.get().reporter_id == world.rider.user_id
