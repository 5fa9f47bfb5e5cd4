"""``make screenshots``: the README's pictures, taken from the demo street in headless Chromium.

It loads the demo into a throw-away SQLite database (``--template DIR`` or ``SHOTS_TEMPLATE``
keeps a migrated copy to start from next time, as ``make fuzz`` does), serves it as ``make demo``
does, logs in as the demo's accounts and saves, into ``docs/screenshots/``:

    rider-home.png       the rider's home on a 360 × 640 phone (what matters now)
    rider-nearby.png     the stations near the rider, on the phone
    rider-report.png     the report form (随手拍), on the phone
    staff-triage.png     the community staff's triage queue, on a desktop
    dashboard.png        the street admin's dashboard, on a desktop

Needs Chromium (Debian's ``chromium``, or ``YIZHAN_CHROMIUM``). Maps show no tiles here (no
tile server is reachable from a build machine): the pages say how to work without them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import fuzz  # tools/fuzz.py: the demo database and a free port
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "yizhan-demo-2026"
RIDER = "13935210056"
STAFF = "qingyuanmen-grid"
ADMIN = "qingyuan-admin"
STREET = "140213055"  # 清远街道
#: Where the demo rider stands for the nearby page (WGS-84), in 清远街道's old town.
HERE = (40.0925, 113.2820)
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 900}


def chromium() -> str:
    sys.path.insert(0, str(ROOT))
    from tests.e2e.chromium import CHROMIUM, SKIP_REASON

    if not CHROMIUM:
        raise SystemExit(SKIP_REASON.replace("E2E SKIPPED", "no screenshots"))
    return CHROMIUM


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    command = [
        str(fuzz.VENV_BIN / "python"),
        "manage.py",
        "runserver",
        f"127.0.0.1:{port}",
        "--noreload",
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/version", timeout=2):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: see {log}") from None
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer: see {log}")


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form.card button[type=submit]")
    page.wait_for_load_state("networkidle")


def take(browser, base: str) -> list[Path]:
    saved = []

    def context(phone: bool, **extra):
        options = {"base_url": base, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
        if phone:
            options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        else:
            options.update(viewport=DESKTOP)
        return browser.new_context(**options, **extra)

    def shot(page, name: str, *, full: bool = False, height: int | None = None) -> None:
        page.wait_for_load_state("networkidle")
        path = OUT / f"{name}.png"
        if height:  # the top of a long page: the form, the map and the first results
            clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
            page.screenshot(path=str(path), full_page=True, clip=clip)
        else:
            page.screenshot(path=str(path), full_page=full)
        saved.append(path)

    rider = context(
        True, permissions=["geolocation"], geolocation={"latitude": HERE[0], "longitude": HERE[1]}
    )
    page = rider.new_page()
    log_in(page, RIDER)
    page.goto("/rider/")
    shot(page, "rider-home", full=True)
    page.goto(f"/nearby/?lat={HERE[0]}&lng={HERE[1]}&crs=wgs84&open=1")
    shot(page, "rider-nearby", height=1500)
    page.goto("/report/")
    shot(page, "rider-report")
    rider.close()

    staff = context(False)
    page = staff.new_page()
    log_in(page, STAFF)
    page.goto("/console/reports/")
    shot(page, "staff-triage", height=1400)
    staff.close()

    admin = context(False)
    page = admin.new_page()
    log_in(page, ADMIN)
    page.goto(f"/console/dashboard/{STREET}/")
    page.wait_for_timeout(1500)  # the charts animate in
    shot(page, "dashboard")
    admin.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--template", default=os.environ.get("SHOTS_TEMPLATE", ""))
    args = parser.parse_args(argv)
    executable = chromium()
    work = Path(tempfile.mkdtemp(prefix="yizhan-shots-"))
    var_dir = work / "var"
    var_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yizhan.config.settings.dev",
        "YIZHAN_DEMO": "1",
        "DEBUG": "1",  # as make demo: runserver serves the static files and the photos
        "YIZHAN_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "YIZHAN_JOBS_INPROCESS": "1",
        "DASHBOARD_PUBLIC_STREETS": STREET,
        "MAP_TILE_URL": "",
    }
    env.pop("DATABASE_URL", None)
    server = None
    try:
        fuzz.prepare_database(env, var_dir, Path(args.template) if args.template else None)
        port = fuzz.free_port()
        server = serve(env, port, work / "server.log")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
            )
            saved = take(browser, f"http://127.0.0.1:{port}")
            browser.close()
        for path in saved:
            fuzz.say(f"saved {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")
    finally:
        if server is not None:
            fuzz.stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
