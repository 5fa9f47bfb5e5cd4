"""A smoke test of production and of many processes sharing one truth (issue 10).

The stack (tests/prod/conftest.py) is the production profile: gunicorn with 4 workers,
2 Huey workers and the scheduler on one PostgreSQL, Redis, and an S3 stand-in. Everything here
goes through HTTP, as phones and consoles do.
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from benchmarks._load_driver import jpeg, multipart

from tests.prod.conftest import Api, log_in, operator_token

STAFF = "qingyuanxijie-staff"  # 清远西街社区's community staff
HANDLER = "zhifadui-handler"  # the street's law-enforcement team
RIDER = "13935210056"  # 郭建峰, 109 points
COMMUNITY = "140213055001"  # 清远西街社区
STREET = "140213055"
HERE = (40.0952, 113.2826)  # 清远西街社区小哥驿站, in 清远门网格


def photo(seed: int) -> bytes:
    return jpeg(seed, (640, 480))


def objects(stack, prefix: str = "") -> set[str]:
    listing = stack.s3().list_objects_v2(Bucket=stack.bucket, Prefix=prefix)
    return {item["Key"] for item in listing.get("Contents", [])}


def metrics(stack) -> str:
    with urllib.request.urlopen(f"{stack.url}/metrics", timeout=30) as response:
        return response.read().decode()


def wait_for(what: str, check, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def test_ready_and_measured(stack):
    with urllib.request.urlopen(f"{stack.url}/readyz", timeout=30) as response:
        body = json.loads(response.read())
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "storage", "queue", "static"}
    text = metrics(stack)
    assert 'yizhan_request_seconds_count{method="GET",route="readyz",status="2xx"}' in text
    assert "yizhan_reports_overdue" in text and "yizhan_task_queue_depth" in text


def test_static_files_are_hashed_compressed_and_cached(stack):
    page = urllib.request.urlopen(f"{stack.url}/", timeout=30).read().decode()
    css = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page)
    assert css, "the page links no hashed stylesheet"
    request = urllib.request.Request(stack.url + css.group(1), headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]


def test_the_scheduled_jobs_run_on_the_workers(stack):
    def ran() -> bool:
        text = metrics(stack)
        found = re.search(
            r'yizhan_job_last_success_timestamp_seconds\{job="reports.escalate"\} ([0-9.e+]+)', text
        )
        return found is not None and float(found.group(1)) >= stack.started_at

    wait_for("reports.escalate ran", ran)
    # Every job, not only the first: the scheduler enqueues each on its first tick.
    text = metrics(stack)
    for job in ("points.expire", "rewards.expire_redemptions", "privacy.retention.sessions"):
        assert f'job="{job}"' in text, job


def test_register_report_dispatch_verify_redeem(stack):
    """The smoke scenario: a new rider registers and is verified, files a report with a photo
    (in object storage, originals private), staff dispatch, the department handles it, staff
    verify; a rider redeems a reward and staff hand it over."""
    anonymous = Api(stack.url)
    phone = f"139{random.randrange(10**8):08d}"
    registered = anonymous.ok(
        "POST",
        "/api/v1/riders/register",
        {
            "name": "冒烟测试",
            "phone": phone,
            "password": "smoke-test-2026",
            "community": COMMUNITY,
            "platform": "meituan",
            "occupation": "food_delivery",
            "vehicle": "e_bike",
            "work_lat": HERE[0],
            "work_lng": HERE[1],
            "consent": True,
            "location_consent": True,
        },
    )
    staff = log_in(stack, STAFF)
    staff.ok("POST", f"/api/v1/riders/{registered['id']}/verify", {})
    rider = log_in(stack, phone, "smoke-test-2026")

    category = rider.ok("GET", f"/api/v1/reports/categories?street={STREET}")["items"][0]["id"]
    private_before = objects(stack, "private/")
    body, ctype = multipart(
        {
            "category": category,
            "lat": HERE[0],
            "lng": HERE[1],
            "description": "冒烟测试：井盖松动",
            "address": "清远西街 1 号",
        },
        [("photos", "photo.jpg", photo(1))],
    )
    key = uuid.uuid4().hex
    report = rider.ok(
        "POST",
        "/api/v1/reports",
        body=body,
        content_type=ctype,
        headers={"Idempotency-Key": key},
        expect=(201,),
    )
    again = rider.ok(
        "POST",
        "/api/v1/reports",
        body=body,
        content_type=ctype,
        headers={"Idempotency-Key": key},
        expect=(200, 201),
    )
    assert again["id"] == report["id"]  # a phone's retry files nothing twice

    # The original under the private prefix; the faces blurred by a task worker, and the
    # blurred copy public, served from the bucket.
    assert len(objects(stack, "private/") - private_before) >= 1

    def blurred() -> str | None:
        return rider.ok("GET", f"/api/v1/reports/{report['id']}")["photos"][0]["url"]

    url = wait_for("a worker blurred the photo", blurred)
    assert url and url.startswith(stack.env()["S3_ENDPOINT_URL"]), url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read()[:3] == b"\xff\xd8\xff"  # a JPEG, from object storage

    staff.ok("POST", f"/api/v1/reports/{report['id']}/accept", {"note": "立案"})
    departments = staff.ok("GET", f"/api/v1/reports/{report['id']}/departments")["items"]
    handler = log_in(stack, HANDLER)
    department = next(d["id"] for d in departments if d["name"] == "清远街道综合行政执法队")
    staff.ok(
        "POST",
        f"/api/v1/reports/{report['id']}/dispatch",
        {"department_id": department, "note": "请处理"},
    )
    body, ctype = multipart({"note": "已处理"}, [("photos", "after.jpg", photo(2))])
    handler.ok("POST", f"/api/v1/reports/{report['id']}/handle", body=body, content_type=ctype)
    request_id = f"smoke-{uuid.uuid4().hex[:16]}"
    body, ctype = multipart({"passed": "true", "note": "现场核查通过"}, [])
    verified = staff.ok(
        "POST",
        f"/api/v1/reports/{report['id']}/verify",
        body=body,
        content_type=ctype,
        headers={"X-Request-ID": request_id},
    )
    assert verified["status"] in ("verified", "closed")

    # The rider is told, by a task worker, under the id of the request that caused it.
    def delivered() -> bool:
        logs = "".join(p.read_text(errors="replace") for p in stack.logs.glob("worker*.log"))
        return request_id in logs

    wait_for("the verification's notification was delivered by a worker", delivered)

    # A rider with points reserves a reward; the station's staff hand it over by the code.
    guo = log_in(stack, RIDER)
    balance = guo.ok("GET", "/api/v1/points/me")["balance"]
    rewards = guo.ok("GET", f"/api/v1/rewards?street={STREET}&page_size=50")["items"]
    reserved = None
    for reward in sorted(rewards, key=lambda r: r["cost"]):
        if reward["cost"] > balance:
            continue
        for stock in reward.get("stock", []):
            if stock["available"] > 0:
                status, data, _ = guo.call(
                    "POST",
                    f"/api/v1/rewards/{reward['id']}/reserve",
                    {"station_id": stock["station_id"]},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                if status == 201:
                    reserved = data
                    break
        if reserved:
            break
    assert reserved, "no reward could be reserved"
    fulfilled = staff.ok(
        "POST",
        "/api/v1/rewards/pickup",
        {"station_id": reserved["station"]["id"], "code": reserved["pickup_code"]},
    )
    assert fulfilled["status"] == "fulfilled", fulfilled
    assert guo.ok("GET", "/api/v1/points/me")["balance"] == balance - reserved["cost"]


def test_every_worker_sees_a_catalogue_change_at_once(stack):
    """The station catalogue is copied into each process's memory: a change made through one
    worker must reach the copies of all of them."""
    operator = operator_token(stack)
    reader = Api(stack.url)

    def names() -> list[str]:
        return [
            s["name"]
            for s in reader.ok("GET", "/api/v1/stations/services")  # the whole catalogue
        ]

    with ThreadPoolExecutor(8) as pool:  # every worker takes its copy
        list(pool.map(lambda _: names(), range(40)))
    service = operator.ok("GET", "/api/v1/stations/services")[0]
    renamed = f"{service['name'][:20]}·{uuid.uuid4().hex[:4]}"
    operator.ok("PATCH", f"/api/v1/stations/services/{service['code']}", {"name": renamed})
    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda _: renamed in names(), range(40)))
    assert all(seen), f"{seen.count(False)} of 40 answers still had the old name"
    # The 40 answers came from every worker (each writes its own metrics file).
    workers = {p.name.rsplit("_", 1)[-1] for p in (stack.var_dir / "metrics").glob("histogram_*")}
    assert len(workers) >= stack.workers, workers
    operator.ok("PATCH", f"/api/v1/stations/services/{service['code']}", {"name": service["name"]})


def test_a_lockout_holds_across_workers(stack):
    """Failed log-ins are counted in Redis, not per process: the lock follows the account to
    whichever worker answers next."""
    anonymous = Api(stack.url)
    attempts = [
        anonymous.call(
            "POST",
            "/api/v1/auth/token",
            {"username": "volunteer-chen", "password": f"wrong-{n}"},
        )[0]
        for n in range(12)
    ]
    assert attempts[0] == 401 and 429 in attempts, attempts
    statuses = {
        anonymous.call(
            "POST",
            "/api/v1/auth/token",
            {"username": "volunteer-chen", "password": "yizhan-demo-2026"},
        )[0]
        for _ in range(8)
    }
    assert statuses == {429}, statuses


def test_one_idempotency_key_from_many_connections_files_one_report(stack):
    rider = log_in(stack, RIDER)
    category = rider.ok("GET", f"/api/v1/reports/categories?street={STREET}")["items"][0]["id"]
    body, ctype = multipart(
        {"category": category, "lat": HERE[0], "lng": HERE[1], "description": "同一把钥匙"},
        [("photos", "photo.jpg", photo(3))],
    )
    key = uuid.uuid4().hex

    def send(_):
        return rider.call(
            "POST",
            "/api/v1/reports",
            body=body,
            content_type=ctype,
            headers={"Idempotency-Key": key},
        )

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, range(6)))
    ids = {data["id"] for status, data, _ in answers if status in (200, 201)}
    assert len(ids) == 1, answers
    assert all(status in (200, 201, 409) for status, _, _ in answers), answers
