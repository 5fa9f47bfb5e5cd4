"""The HTTP driver of ``benchmarks/load.py``: simulated riders and staff on the JSON API.

Closed loop: each client thread sends its next request as soon as the last one is answered (no
think time), one request per connection at a time (``http.client``; gunicorn's sync workers close
the connection after every response). A request that fails — no answer (connection refused or
reset, the worker killed under it, a timeout), a 5xx or a 429 — counts as an error and is sent
again, byte for byte (the same idempotency key and body), after 0.2, 0.4, 0.8 … s, at most
``MAX_ATTEMPTS`` times in all. Every write the server acknowledged (2xx) is recorded with its
kind, key and the id it returned, for ``_load_check``.

The staff's workflow transitions (accept, dispatch, handle, verify, close) take no idempotency
key (the endpoints ignore the header, which is sent anyway): a retry of one that had committed
is refused with 409 ``invalid_transition``; the driver then reads the report, and when it is in
the state the transition leads to, counts the transition acknowledged ("confirmed by state").
"""

from __future__ import annotations

import heapq
import http.client
import io
import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

MAX_ATTEMPTS = 10
TIMEOUT_S = 60

#: What a rider does, with weights.
RIDER_MIX = (
    ("nearby", 22),
    ("points_me", 14),
    ("rewards", 8),
    ("events", 5),
    ("my_reports", 10),
    ("report_submit", 14),
    ("check_in", 14),
    ("reserve", 13),
)
#: The business refusals a write may meet (4xx, nothing written): not errors.
EXPECTED_REFUSALS = {
    "out_of_stock",
    "insufficient_points",
    "not_enough_points",
    "limit_reached",
    "invalid_transition",
    "busy",
}


@dataclass
class Ack:
    kind: str
    key: str
    id: int
    attempts: int
    status: int
    extra: dict = field(default_factory=dict)


@dataclass
class Stats:
    """Everything the clients saw, merged under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    answered: Counter = field(default_factory=Counter)  # attempts with a status < 500
    errors: Counter = field(default_factory=Counter)  # (kind, what) of failed attempts
    retries: Counter = field(default_factory=Counter)
    gave_up: list[tuple[str, str]] = field(default_factory=list)  # (kind, key)
    refused: Counter = field(default_factory=Counter)  # (kind, code)
    unexpected: list[str] = field(default_factory=list)  # 4xx no one expected
    acks: list[Ack] = field(default_factory=list)
    sent_keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    confirmed_by_state: Counter = field(default_factory=Counter)
    replays: Counter = field(default_factory=Counter)  # retried writes answered after an error
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (t, status or 0)
    #: the five slowest answers: (seconds, sent at, kind, status, client port)
    slowest: list[tuple[float, float, str, int, int]] = field(default_factory=list)
    #: the client port of every request on the wire: (kind, key or None), for the kill
    inflight: dict[int, tuple[str, str | None]] = field(default_factory=dict)


def jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A small real JPEG whose perceptual hash depends on ``seed`` (a 9×8 pattern of random
    greys, scaled up): no two reports of the run share a picture."""
    from PIL import Image

    rng = random.Random(seed)
    small = Image.new("RGB", (9, 8))
    small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(72)])
    out = io.BytesIO()
    small.resize(size, Image.Resampling.NEAREST).save(out, "JPEG", quality=85)
    return out.getvalue()


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = "yizhanload" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode() + b"\r\n")
    for name, filename, data in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class Client:
    """One simulated phone or console: a bearer token and the shared statistics."""

    def __init__(self, port: int, token: str, stats: Stats, clock: dict) -> None:
        self.port, self.token, self.stats, self.clock = port, token, stats, clock
        self.stop = threading.Event()  # run_clients hands every client the same one

    def stopping(self) -> bool:
        return self.stop.is_set()

    def call(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        key: str | None = None,
    ) -> tuple[int | None, dict | list | None, int]:
        """(status, parsed JSON, attempts); status None when every attempt failed."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Language": "en"}
        if content_type:
            headers["Content-Type"] = content_type
        if key:
            headers["Idempotency-Key"] = key
            with self.stats.lock:
                self.stats.sent_keys[kind].add(key)
        attempt, delay = 0, 0.2
        while True:
            attempt += 1
            started = time.perf_counter()
            status, data, what = None, b"", ""
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
            local = None
            try:
                conn.connect()
                local = conn.sock.getsockname()[1]
                self.stats.inflight[local] = (kind, key)
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                status, data = response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                what = type(exc).__name__
            finally:
                if local is not None:
                    self.stats.inflight.pop(local, None)
                conn.close()
            elapsed = time.perf_counter() - started
            failed = status is None or status >= 500 or status == 429
            with self.stats.lock:
                # When the attempt ended (a failure shows when the client learnt of it).
                self.stats.timeline.append((started + elapsed - self.clock["start"], status or 0))
                if failed:
                    self.stats.errors[(kind, what or str(status))] += 1
                else:
                    self.stats.answered[kind] += 1
                    self.stats.latencies[kind].append(elapsed)
                    entry = (elapsed, started - self.clock["start"], kind, status, local or 0)
                    if len(self.stats.slowest) < 5:
                        heapq.heappush(self.stats.slowest, entry)
                    else:
                        heapq.heappushpop(self.stats.slowest, entry)
                    if attempt > 1 and key:
                        self.stats.replays[kind] += 1
            if not failed:
                try:
                    parsed = json.loads(data) if data else None
                except ValueError:
                    parsed = None
                return status, parsed, attempt
            if attempt >= MAX_ATTEMPTS:
                with self.stats.lock:
                    self.stats.gave_up.append((kind, key or path))
                return None, None, attempt
            with self.stats.lock:
                self.stats.retries[kind] += 1
            time.sleep(delay)
            delay = min(delay * 2, 4.0)

    # -- recording --------------------------------------------------------------------------

    def ack(self, kind: str, key: str, ident: int, attempts: int, status: int, **extra) -> None:
        with self.stats.lock:
            self.stats.acks.append(Ack(kind, key, ident, attempts, status, extra))

    def refusal(self, kind: str, status: int, body: dict | list | None) -> None:
        code = body.get("code", "?") if isinstance(body, dict) else "?"
        with self.stats.lock:
            if code in EXPECTED_REFUSALS:
                self.stats.refused[(kind, code)] += 1
            else:
                self.stats.unexpected.append(f"{kind}: {status} {json.dumps(body)[:300]}")


def new_key(kind: str) -> str:
    return f"load-{kind}-{uuid.uuid4().hex}"


class RiderClient(Client):
    def __init__(self, port, stats, clock, world, riders, rng, photo_seq) -> None:
        super().__init__(port, "", stats, clock)
        self.world, self.riders, self.rng, self.photo_seq = world, riders, rng, photo_seq
        self.kinds = [k for k, _w in RIDER_MIX]
        self.weights = [w for _k, w in RIDER_MIX]

    def step(self) -> None:
        rider = self.rng.choice(self.riders)
        self.token = rider.token
        kind = self.rng.choices(self.kinds, self.weights)[0]
        getattr(self, kind)(rider)

    def _json(self, kind: str, path: str, payload: dict, key: str):
        return self.call(
            kind, "POST", path, body=json.dumps(payload).encode(),
            content_type="application/json", key=key,
        )  # fmt: skip

    def nearby(self, rider) -> None:
        lat, lng = rider.home
        query = urlencode({"lat": lat, "lng": lng, "radius": 3000, "services": "water"})
        self.call("nearby", "GET", f"/api/v1/stations/nearby?{query}")

    def points_me(self, rider) -> None:
        self.call("points_me", "GET", "/api/v1/points/me")

    def rewards(self, rider) -> None:
        self.call("rewards", "GET", f"/api/v1/rewards?street={self.world.street_code}")

    def events(self, rider) -> None:
        self.call("events", "GET", "/api/v1/events")

    def my_reports(self, rider) -> None:
        self.call("my_reports", "GET", "/api/v1/reports/mine")

    def report_submit(self, rider) -> None:
        key = new_key("report")
        lng0, lat0, lng1, lat1 = self.world.boxes[rider.community]
        lat = min(max(rider.home[0] + self.rng.uniform(-0.002, 0.002), lat0 + 1e-4), lat1 - 1e-4)
        lng = min(max(rider.home[1] + self.rng.uniform(-0.002, 0.002), lng0 + 1e-4), lng1 - 1e-4)
        with self.stats.lock:
            seq = next(self.photo_seq)
        body, ctype = multipart(
            {
                "category": str(self.rng.choice(self.world.categories)),
                "lat": f"{lat:.6f}",
                "lng": f"{lng:.6f}",
                # The key in the text: the check counts the rows carrying it, whatever the
                # idempotency table says.
                "description": f"压测随手拍 {key}",
                "address": "压测路 8 号",
            },
            [("photos", "photo.jpg", jpeg(seq))],
        )
        status, data, attempts = self.call(
            "report_submit", "POST", "/api/v1/reports", body=body, content_type=ctype, key=key
        )
        if status == 201:
            self.ack("report_submit", key, data["id"], attempts, status)
        elif status is not None:
            self.refusal("report_submit", status, data)

    def check_in(self, rider) -> None:
        key = new_key("checkin")
        station_id, token, _lat, _lng = self.rng.choice(self.world.stations)
        status, data, attempts = self._json(
            "check_in", f"/api/v1/stations/{station_id}/checkin", {"token": token}, key
        )
        if status in (200, 201):
            self.ack(
                "check_in", key, data["id"], attempts, status,
                already=data.get("already"), station=station_id, user=rider.user_id,
            )  # fmt: skip
        elif status is not None:
            self.refusal("check_in", status, data)

    def reserve(self, rider) -> None:
        key = new_key("reserve")
        reward_id, _cost = self.rng.choice(self.world.rewards)
        station_id = self.rng.choice(self.world.stations)[0]
        status, data, attempts = self._json(
            "reserve", f"/api/v1/rewards/{reward_id}/reserve", {"station_id": station_id}, key
        )
        if status == 201:
            self.ack("reserve", key, data["id"], attempts, status)
        elif status is not None:
            self.refusal("reserve", status, data)


class StaffClient(Client):
    """One console role: triage (accept, dispatch), handler (handle), verify (verify, close),
    award (manual awards). Each works its own stage, so two never race for one report."""

    def __init__(self, port, stats, clock, world, role, rng, photo_seq) -> None:
        super().__init__(port, world.staff_tokens[role], stats, clock)
        self.world, self.role, self.rng, self.photo_seq = world, role, rng, photo_seq

    def step(self) -> None:
        getattr(self, self.role)()

    def _page(self, kind: str, path: str) -> list[dict]:
        status, data, _attempts = self.call(kind, "GET", path)
        if status == 200 and isinstance(data, dict):
            return data.get("items", [])
        if status == 200 and isinstance(data, list):
            return data
        return []

    def _transition(self, kind: str, report_id: int, action: str, target: set[str], **form):
        """POST /reports/{id}/{action}; acknowledged on 200, or on 409 after a failed attempt
        when the report is found in a state the transition leads to."""
        key = new_key(kind)  # sent, but these endpoints take no key (see the module doc)
        path = f"/api/v1/reports/{report_id}/{action}"
        if form.pop("multipart", False):
            files = form.pop("files", [])
            body, ctype = multipart({k: str(v) for k, v in form.items()}, files)
        else:
            body, ctype = json.dumps(form).encode(), "application/json"
        status, data, attempts = self.call(kind, "POST", path, body=body, content_type=ctype,
                                           key=key)  # fmt: skip
        if status == 200:
            self.ack(kind, key, report_id, attempts, status, action=action)
            return True
        if status is None:
            return False
        code = data.get("code") if isinstance(data, dict) else None
        if status == 409 and code == "invalid_transition" and attempts > 1:
            now_status, detail, _a = self.call(
                f"{kind}_check", "GET", f"/api/v1/reports/{report_id}"
            )
            if now_status == 200 and detail.get("status") in target:
                with self.stats.lock:
                    self.stats.confirmed_by_state[kind] += 1
                self.ack(kind, key, report_id, attempts, status, action=action, by_state=True)
                return True
        self.refusal(kind, status, data)
        return False

    def triage(self) -> None:
        items = self._page("staff_queue", "/api/v1/reports/queue?page_size=10")
        if not items:
            self.call("staff_reports", "GET", "/api/v1/reports?page_size=20")
            time.sleep(0.2)
            return
        for item in items[:3]:
            if self.stopping():
                break
            after_accept = {"accepted", "dispatched", "handled", "verified", "closed"}
            if self._transition("accept", item["id"], "accept", after_accept, note="立案"):
                self._transition(
                    "dispatch", item["id"], "dispatch", {"dispatched", "handled", "verified",
                                                          "closed"},
                    department_id=self.world.department_id, note="请处理",
                )  # fmt: skip

    def handler(self) -> None:
        items = self._page("handler_cases", "/api/v1/reports/cases?page_size=10")
        items = [i for i in items if i.get("status") == "dispatched"]
        if not items:
            time.sleep(0.2)
            return
        for item in items[:3]:
            if self.stopping():
                break
            with self.stats.lock:
                seq = next(self.photo_seq)
            self._transition(
                "handle", item["id"], "handle", {"handled", "verified", "closed"},
                multipart=True, note="已处理", files=[("photos", "after.jpg", jpeg(seq))],
            )  # fmt: skip

    def verify(self) -> None:
        items = self._page("staff_handled", "/api/v1/reports?status=handled&page_size=10")
        if not items:
            time.sleep(0.2)
            return
        for item in items[:3]:
            if self.stopping():
                break
            ok = self._transition(
                "verify", item["id"], "verify", {"verified", "closed"},
                multipart=True, passed="true", note="现场核查通过",
            )  # fmt: skip
            if ok:
                self._transition("close", item["id"], "close", {"closed"}, note="结案")

    def award(self) -> None:
        if self.rng.random() < 0.4:
            self.call("award_list", "GET", "/api/v1/points/awards?page_size=20")
            return
        rider = self.rng.choice(self.world.riders)
        key = new_key("award")
        payload = {
            "member_id": rider.user_id,
            "amount": self.rng.randint(1, 10),
            "reason": f"压测奖励 {key}",
            "evidence": "现场照片",
        }
        status, data, attempts = self.call(
            "award", "POST", "/api/v1/points/awards", body=json.dumps(payload).encode(),
            content_type="application/json", key=key,
        )  # fmt: skip
        if status == 201:
            self.ack("award", key, data["id"], attempts, status, member=rider.user_id)
        elif status is not None:
            self.refusal("award", status, data)


def run_clients(clients: list[Client], seconds: float, clock: dict, on_tick=None) -> float:
    """Run every client's ``step`` in its own thread until ``seconds`` have passed; ``on_tick``
    is called about every 0.5 s with the elapsed time (the kill). Returns the elapsed time."""
    stop = threading.Event()
    failures: list[str] = []

    def loop(client: Client) -> None:
        while not stop.is_set():
            try:
                client.step()
            except Exception as exc:  # a driver bug must not end the run silently
                failures.append(f"{type(exc).__name__}: {exc}")
                if len(failures) > 50:
                    stop.set()
                time.sleep(0.1)

    for client in clients:
        client.stop = stop
    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in clients]
    clock["start"] = time.perf_counter()
    for t in threads:
        t.start()
    while True:
        elapsed = time.perf_counter() - clock["start"]
        if elapsed >= seconds or stop.is_set():
            break
        if on_tick is not None:
            on_tick(elapsed)
        time.sleep(min(0.5, max(0.01, seconds - elapsed)))
    stop.set()
    for t in threads:
        t.join(timeout=TIMEOUT_S * MAX_ATTEMPTS)
    clock["failures"] = failures
    return time.perf_counter() - clock["start"]
