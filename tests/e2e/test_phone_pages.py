"""Every rider page at 360 × 640, as a cheap Android phone shows it: no sideways scrolling, a
label on every input, tap targets of at least 44 px, WCAG AA colour contrast (axe-core's own
rules, vendored in tests/e2e/vendor: no CDN), and the larger-text setting.

axe-core is injected into the page, which the site's Content-Security-Policy forbids: this test's
browser context bypasses the policy for that purpose only (the other e2e tests keep it on).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
RIDER_PAGES = [
    "/rider/",
    "/report/",
    "/nearby/?community=440000001001",
    "/reports/mine/",
    "/rider/points/",
    "/rider/shop/",
    "/rider/posts/",
    "/rider/teams/",
    "/events/",
    "/duties/",
    "/appeals/new/",
    "/honours/mine/",
    "/rider/privacy/",
    "/outbox/",
    "/inbox/",
]
#: Controls a finger must hit: their boxes must be at least this tall (WCAG 2.5.5: 44 × 44 CSS px).
TAP = 44

MEASURE = """() => {
  const visible = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.name ? '[name=' + el.name + ']' : '') +
    ' "' + (el.textContent || '').trim().slice(0, 20) + '"';
  const unlabelled = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && visible(el))
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby'))
    .map(describe);
  const small = [...document.querySelectorAll(
      'button, .button, select, textarea, input[type=text], input[type=tel], input[type=number],' +
      ' input[type=password], input[type=search], .menu-button, header.top nav a')]
    .filter(visible)
    .filter(el => el.getBoundingClientRect().height < TAP - 0.5)
    .map(el => describe(el) + ' ' + Math.round(el.getBoundingClientRect().height) + 'px');
  return {
    scroll: document.documentElement.scrollWidth, width: window.innerWidth,
    unlabelled: unlabelled, small: small,
  };
}""".replace("TAP", str(TAP))


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'rule', values:
             ['color-contrast', 'label', 'button-name', 'link-name', 'image-alt',
              'document-title', 'html-has-lang', 'duplicate-id-active']}})
           .then(r => r.violations.map(v => v.id + ': ' +
              v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""
    )
    return found


@pytest.fixture
def rider_page(world, password, new_context):
    from tests.world import shop_objects, station_objects

    station_objects(world)
    shop_objects(world)
    context = new_context(phone=True, bypass_csp=True)
    page = context.new_page()
    log_in(page, "13812341234", password, expect=r"/rider/")
    return page


def test_every_rider_page_fits_a_phone(rider_page, shot):
    page = rider_page
    problems = {}
    for url in RIDER_PAGES:
        response = page.goto(url)
        assert response.status < 400, (url, response.status)
        page.wait_for_load_state("networkidle")
        m = page.evaluate(MEASURE)
        found = []
        if m["scroll"] > m["width"]:
            found.append(f"scrolls sideways: {m['scroll']} > {m['width']} px")
        found += [f"no label: {x}" for x in m["unlabelled"]]
        found += [f"smaller than {TAP} px: {x}" for x in m["small"]]
        found += [f"axe {x}" for x in axe_violations(page)]
        if found:
            problems[url] = found
        shot(page, url.strip("/").replace("/", "-").split("?")[0] or "home")
    assert not problems, "\n".join(f"{u}\n  " + "\n  ".join(p) for u, p in problems.items())


def test_the_menu_opens_on_a_phone_and_the_text_grows(rider_page, shot):
    page = rider_page
    page.goto("/rider/")
    nav = page.locator("header.top nav.main-nav")
    assert not nav.is_visible()  # folded behind the menu button at 360 px
    page.click("label.menu-button")
    assert nav.is_visible()
    page.click("header.top nav.main-nav >> text=随手拍")
    page.wait_for_url("**/report/")
    before = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    page.click("footer.bottom button[value=large]")
    page.wait_for_load_state()
    after = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert after == pytest.approx(before * 1.25)
    m = page.evaluate(MEASURE)
    assert m["scroll"] <= m["width"], "larger text must not make the page scroll sideways"
    shot(page, "report-large-text")
    page.click("footer.bottom button[value=normal]")
    page.wait_for_load_state()
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") == before
