"""Faces in report photos (core.faces): at intake each photo gets a copy with faces blurred,
stored publicly under a random name, while the original goes to private storage. Everyone — the
reporter, other riders, the department, the API, Open311 — is shown the copy; a photo whose
blurring failed is hidden, never shown as it was. Only staff who may act on the report open the
original ("原图"), and each opening is audited. ``blur_report_photos`` gives photos stored before
this their copy, once; retention removes an original only where the copy exists."""

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.reports.builders import A1_WEST, advance, make_given, media_files, submit, upload
from yizhan.core import faces
from yizhan.core.models import AuditEntry
from yizhan.reports import selectors
from yizhan.reports import services as rs
from yizhan.reports.choices import BlurState, PhotoStage
from yizhan.reports.models import ReportPhoto

ASTRONAUT = (Path(__file__).parent / "fixtures" / "astronaut.jpg").read_bytes()
FACE = (177, 66, 95, 95)  # the astronaut's face in the fixture (and in the stored photo)


@pytest.fixture
def g(world, settings, tmp_path):
    return make_given(world, settings, tmp_path)


@pytest.fixture
def faced(g):
    """The rider's report with the astronaut's photo, and that photo."""
    report = submit(g, photos=[upload(ASTRONAUT, "astronaut.jpg")])
    return report, report.photos.get()


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def read(field) -> bytes:
    with field.storage.open(field.name, "rb") as stored:
        return stored.read()


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)


def public_bytes(url: str) -> bytes:
    """What the web server sends for a MEDIA_URL address (it serves MEDIA_ROOT as it is)."""
    assert url.startswith("/media/")
    with default_storage.open(url.removeprefix("/media/"), "rb") as stored:
        return stored.read()


def face_sharpness(data: bytes) -> float:
    """The detail (variance of the Laplacian) where the face is, at the picture's own size."""
    pixels = decode(data)
    x, y, w, h = (round(v * pixels.shape[1] / 512) for v in FACE)
    grey = cv2.cvtColor(pixels[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def assert_blurred(data: bytes, original: bytes) -> None:
    assert data != original
    assert face_sharpness(data) < 0.05 * face_sharpness(original)


def audits() -> int:
    return AuditEntry.objects.filter(action="view_original").count()


# --- intake ----------------------------------------------------------------------------------


def test_intake_keeps_the_original_private_and_a_blurred_copy_public(g, faced):
    _report, photo = faced
    original = read(photo.image)

    assert photo.blur_state == BlurState.DONE and photo.faces == 1
    assert photo.has_blurred_derivative
    # The original is outside MEDIA_ROOT (nothing serves it) and has no URL at all.
    assert (Path(f"{g.media}-private") / photo.image.name).is_file()
    assert not (g.media / photo.image.name).exists()
    with pytest.raises(ValueError):
        photo.image.url  # noqa: B018
    # The copy is under MEDIA_ROOT with a random name: nothing about it can be guessed.
    name = Path(photo.public_image.name).name
    assert photo.public_image.name.startswith("reports/public/")
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", name)
    assert_blurred(public_bytes(photo.public_url), original)
    assert_blurred(public_bytes(photo.public_thumbnail_url), original)
    assert not faces.detect_faces(decode(public_bytes(photo.public_url)))


def test_a_photo_without_faces_is_shown_as_it_is(g):
    photo = submit(g, seed=5).photos.get()

    assert photo.blur_state == BlurState.DONE and photo.faces == 0
    assert public_bytes(photo.public_url) == read(photo.image)
    assert public_bytes(photo.public_thumbnail_url) == read(photo.thumbnail)


def test_after_photos_are_blurred_too(g, faced):
    report, _photo = faced
    advance(g, report, "dispatched")
    rs.report_handle(
        report=report, actor=g.handler, note="已处理", photos=[upload(ASTRONAUT, "after.jpg")]
    )
    after = report.photos.get(stage=PhotoStage.HANDLED)
    assert after.faces == 1
    assert_blurred(public_bytes(after.public_url), read(after.image))


def test_a_failed_blurring_hides_the_photo_and_never_shows_the_original(g, monkeypatch):
    monkeypatch.setattr(rs, "blur_faces", lambda *a, **k: faces.FaceResult(ok=False))
    report = submit(g, photos=[upload(ASTRONAUT)])
    photo = report.photos.get()

    assert photo.blur_state == BlurState.FAILED and photo.faces is None
    assert not photo.has_blurred_derivative and photo.public_url == ""
    assert not [f for f in media_files(g.media) if not f.startswith("private:")]
    page = client_for(g.rider).get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "Photo hidden until the faces in it are blurred" in page
    assert "<img" not in page.split('class="gallery"')[1].split("</div>")[0]
    body = client_for(g.rider).get(f"/api/v1/reports/{report.pk}").json()
    assert body["photos"][0]["url"] is None and body["thumbnail_url"] is None
    # Staff still open the original.
    staff = client_for(g.staff)
    response = staff.get(reverse("reports:photo_original", args=[report.pk, photo.pk]))
    assert response.status_code == 200


# --- what each viewer is shown ---------------------------------------------------------------


def test_the_reporter_sees_the_blurred_copy(g, faced):
    report, photo = faced
    page = client_for(g.rider).get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert photo.public_url in page and photo.public_thumbnail_url in page
    assert photo.image.name not in page and photo.thumbnail.name not in page
    assert reverse("reports:photo_original", args=[report.pk, photo.pk]) not in page
    mine = client_for(g.rider).get(reverse("reports:mine")).content.decode()
    assert photo.public_thumbnail_url in mine and photo.thumbnail.name not in mine


def test_other_riders_see_the_blurred_copy_among_the_duplicates(g, faced):
    report, photo = faced
    query = {"category": g.wire.pk, "lat": A1_WEST[0], "lng": A1_WEST[1]}
    other = client_for(g.other_rider)

    page = other.get(reverse("reports:duplicates"), query).content.decode()
    assert f"dup-{report.pk}" in page
    assert photo.public_thumbnail_url in page and photo.thumbnail.name not in page

    items = other.get("/api/v1/reports/duplicates", query).json()["items"]
    assert items[0]["id"] == report.pk
    assert items[0]["thumbnail_url"] == photo.public_thumbnail_url
    assert_blurred(public_bytes(items[0]["thumbnail_url"]), read(photo.image))


def test_the_api_gives_the_blurred_copy_and_the_count_of_faces(g, faced):
    report, photo = faced
    body = client_for(g.staff).get(f"/api/v1/reports/{report.pk}").json()
    shown = body["photos"][0]
    assert shown["url"] == photo.public_url and shown["thumbnail_url"] == photo.public_thumbnail_url
    assert shown["faces_blurred"] == 1
    assert body["thumbnail_url"] == photo.public_thumbnail_url
    assert_blurred(public_bytes(shown["url"]), read(photo.image))


def test_the_department_sees_the_blurred_copy_and_no_original_link(g, faced):
    report, photo = faced
    advance(g, report, "dispatched")
    page = client_for(g.handler).get(reverse("reports:case_detail", args=[report.pk]))
    text = page.content.decode()
    assert photo.public_url in text and photo.image.name not in text
    assert 'data-testid="original"' not in text
    cases = client_for(g.handler).get(reverse("reports:cases")).content.decode()
    assert photo.public_thumbnail_url in cases


def test_the_console_shows_the_copy_with_an_original_link(g, faced):
    report, photo = faced
    page = client_for(g.staff).get(reverse("reports:console_detail", args=[report.pk]))
    text = page.content.decode()
    assert photo.public_url in text and photo.image.name not in text
    assert reverse("reports:photo_original", args=[report.pk, photo.pk]) in text
    triage = client_for(g.staff).get(reverse("reports:triage")).content.decode()
    assert photo.public_thumbnail_url in triage and photo.thumbnail.name not in triage


OPEN311 = "/open311/v2/requests.json"


def test_open311_publishes_no_photo_unless_told(g, faced):
    report, _photo = faced
    body = Client().get(OPEN311, {"jurisdiction_id": g.world.street_a.code}).json()
    assert [r["service_request_id"] for r in body] == [report.pk]
    assert "media_url" not in body[0]


def test_open311_media_url_is_the_blurred_copy(g, faced, settings):
    settings.OPEN311_PUBLISH_PHOTOS = True
    report, photo = faced
    plain = submit(g, seed=9)

    body = Client().get(OPEN311, {"jurisdiction_id": g.world.street_a.code}).json()
    urls = {r["service_request_id"]: r["media_url"] for r in body}
    assert urls[report.pk] == f"http://testserver{photo.public_url}"
    assert urls[plain.pk].endswith(plain.photos.get().public_url)
    assert_blurred(public_bytes(photo.public_url), read(photo.image))
    one = (
        Client()
        .get(f"/open311/v2/requests/{report.pk}.json", {"jurisdiction_id": g.world.street_a.code})
        .json()
    )
    assert one[0]["media_url"] == urls[report.pk]
    # A rejected report's photo is withheld, like its text.
    rs.report_reject(report=report, actor=g.staff, reason="不属实")
    body = Client().get(OPEN311, {"jurisdiction_id": g.world.street_a.code}).json()
    assert {r["service_request_id"]: r["media_url"] for r in body}[report.pk] is None


# --- the original, for permitted staff --------------------------------------------------------


def original_url(photo) -> str:
    return reverse("reports:photo_original", args=[photo.report_id, photo.pk])


@pytest.mark.parametrize("who", ["community_staff", "street_admin", "district_admin"])
def test_staff_of_the_area_open_the_original_and_it_is_audited(g, faced, who):
    _report, photo = faced
    user = getattr(g.world, who)

    response = client_for(user).get(original_url(photo))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == read(photo.image)
    entry = AuditEntry.objects.get(action="view_original")
    assert entry.actor_id == user.pk and entry.target_id == str(photo.pk)
    assert entry.target_type == "reports.reportphoto" and entry.area_code == photo.area_code
    assert entry.data == {"report": photo.report_id, "stage": "report", "faces": 1}


@pytest.mark.parametrize(
    "who, status",
    [
        ("anonymous", 302),  # to the log-in page
        ("rider", 403),  # the reporter: the copy only
        ("other_rider", 403),
        ("merchant", 403),
        ("other_community_staff", 404),  # not theirs to see at all
        ("handler", 403),  # the department: the copy only
    ],
)
def test_anyone_else_is_refused_and_nothing_is_recorded(g, faced, who, status):
    _report, photo = faced
    user = {
        "anonymous": None,
        "rider": g.rider,
        "other_rider": g.other_rider,
        "merchant": g.world.merchant,
        "other_community_staff": g.world.other_community_staff,
        "handler": g.handler,
    }[who]
    if who == "handler":
        advance(g, photo.report, "dispatched")

    response = client_for(user).get(original_url(photo))

    assert response.status_code == status
    assert audits() == 0
    if status != 302:
        assert read(photo.image) not in response.content


def test_a_photo_of_another_report_is_not_found(g, faced):
    _report, photo = faced
    other = submit(g, seed=11)
    response = client_for(g.staff).get(reverse("reports:photo_original", args=[other.pk, photo.pk]))
    assert response.status_code == 404 and audits() == 0


# --- retention's hook --------------------------------------------------------------------------


def test_retention_removes_an_original_only_where_the_copy_exists(g, faced, monkeypatch):
    _report, photo = faced
    private = Path(f"{g.media}-private")
    assert set(selectors.photos_with_derivative()) == {photo}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rs, "blur_faces", lambda *a, **k: faces.FaceResult(ok=False))
        hidden = submit(g, seed=12).photos.get()
    assert set(selectors.photos_with_derivative()) == {photo}
    assert rs.report_photo_original_remove(photo_id=hidden.pk) is False
    assert (private / hidden.image.name).is_file()

    with django_on_commit():
        assert rs.report_photo_original_remove(photo_id=photo.pk) is True
    photo.refresh_from_db()
    assert photo.image.name == "" and photo.thumbnail.name == ""
    assert not [f for f in media_files(g.media) if f.startswith("private:") and "-0" in f and
                f"r{photo.report_id}-" in f]  # fmt: skip
    assert photo.has_blurred_derivative and public_bytes(photo.public_url)
    assert rs.report_photo_original_remove(photo_id=photo.pk) is False
    response = client_for(g.staff).get(original_url(photo))
    assert response.status_code == 404 and b"no longer kept" in response.content
    assert audits() == 0


class django_on_commit:
    """Run the on-commit callbacks of the block (the test runs inside one transaction)."""

    def __enter__(self):
        from django.test import TestCase

        self._context = TestCase.captureOnCommitCallbacks(execute=True)
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


# --- the backfill ------------------------------------------------------------------------------


def as_before(photo: ReportPhoto) -> None:
    """Put a photo back as it was stored before faces were blurred: the original in MEDIA_ROOT
    (public), no copy, pending."""
    for field in (photo.image, photo.thumbnail):
        data = read(field)
        field.storage.delete(field.name)
        assert default_storage.save(field.name, ContentFile(data)) == field.name
    for field in (photo.public_image, photo.public_thumbnail):
        field.storage.delete(field.name)
    ReportPhoto.objects.filter(pk=photo.pk).update(
        public_image="", public_thumbnail="", blur_state=BlurState.PENDING, faces=None
    )


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("blur_report_photos", *args, stdout=out)
    return out.getvalue()


def test_the_backfill_blurs_old_photos_moves_their_originals_and_is_idempotent(g, faced):
    _report, photo = faced
    plain = submit(g, seed=13).photos.get()
    original = read(photo.image)
    for each in (photo, plain):
        as_before(each)
    assert (g.media / photo.image.name).is_file()  # publicly served, as before

    assert run("--batch-size", "1") == "blurred 2, failed 0 (hidden until retried), skipped 0\n"

    photo.refresh_from_db()
    plain.refresh_from_db()
    assert photo.blur_state == BlurState.DONE and photo.faces == 1
    assert plain.blur_state == BlurState.DONE and plain.faces == 0
    assert not (g.media / photo.image.name).exists()  # no longer public
    assert read(photo.image) == original  # moved, not changed
    assert_blurred(public_bytes(photo.public_url), original)
    files = media_files(g.media)
    rows = list(ReportPhoto.objects.order_by("pk").values())

    assert run() == "blurred 0, failed 0 (hidden until retried), skipped 0\n"
    assert media_files(g.media) == files
    assert list(ReportPhoto.objects.order_by("pk").values()) == rows


def test_the_backfill_fails_closed_on_a_missing_original_and_retries_on_request(g, faced):
    _report, photo = faced
    as_before(photo)
    data = read_default(photo.image.name)
    default_storage.delete(photo.image.name)

    assert run().startswith("blurred 0, failed 1")
    photo.refresh_from_db()
    assert photo.blur_state == BlurState.FAILED and not photo.has_blurred_derivative
    assert run().startswith("blurred 0, failed 0")  # failed ones wait for --retry-failed

    default_storage.save(photo.image.name, ContentFile(data))
    assert run("--retry-failed").startswith("blurred 1, failed 0")
    photo.refresh_from_db()
    assert photo.blur_state == BlurState.DONE and photo.faces == 1


def read_default(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def test_the_backfill_refuses_a_nonsense_batch_size(g):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        run("--batch-size", "0")


# --- blurring on the task workers (the production profile) -----------------------------------


def test_with_a_task_queue_the_workers_blur_and_the_photo_stays_hidden_until_then(
    g, task_queue, django_capture_on_commit_callbacks
):
    from tests.conftest import run_next_task

    with django_capture_on_commit_callbacks(execute=True):
        report = submit(g, photos=[upload(ASTRONAUT, "astronaut.jpg")])
    photo = report.photos.get()
    # The request stored the original and left the faces to a worker: nothing public yet.
    assert photo.blur_state == BlurState.PENDING and not photo.public_image
    assert task_queue.pending_count() == 1
    run_next_task(task_queue)
    photo.refresh_from_db()
    assert photo.blur_state == BlurState.DONE and photo.faces == 1
    assert_blurred(read(photo.public_image), read(photo.image))


def test_report_blur_inline_keeps_the_blurring_in_the_request(
    g, task_queue, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_BLUR = "inline"
    with django_capture_on_commit_callbacks(execute=True):
        report = submit(g, photos=[upload(ASTRONAUT, "astronaut.jpg")])
    assert report.photos.get().blur_state == BlurState.DONE
    assert task_queue.pending_count() == 0


def test_the_periodic_job_blurs_photos_whose_task_was_lost(g, task_queue):
    from datetime import timedelta

    from django.utils import timezone

    from yizhan.reports.tasks import blur_pending

    report = submit(g, photos=[upload(ASTRONAUT, "astronaut.jpg")])  # its task never queued
    photo = report.photos.get()
    assert photo.blur_state == BlurState.PENDING
    assert blur_pending() == {"done": 0, "failed": 0, "skipped": 0}  # too young: its task may come
    ReportPhoto.objects.filter(pk=photo.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert blur_pending()["done"] == 1
    photo.refresh_from_db()
    assert photo.blur_state == BlurState.DONE
