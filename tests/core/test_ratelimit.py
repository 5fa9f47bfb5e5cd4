"""core.ratelimit: a fixed window in the cache, 429 with Retry-After, per key."""

import re

import pytest
from django.test import RequestFactory

from yizhan.core import ratelimit
from yizhan.core.ratelimit import Rate, RateLimited, parse_rate


@pytest.mark.parametrize(
    "value, rate",
    [
        ("20/1h", Rate(20, 3600)),
        ("5/60", Rate(5, 60)),
        ("3/15m", Rate(3, 900)),
        ("10/s", Rate(10, 1)),
        ("2/1d", Rate(2, 86400)),
        ("0", None),
        ("", None),
        (None, None),
        ("0/1h", None),
    ],
)
def test_parse_rate(value, rate):
    assert parse_rate(value) == rate


def test_parse_rate_refuses_nonsense():
    with pytest.raises(ValueError):
        parse_rate("many/often")


@pytest.fixture
def limited(settings):
    settings.RATELIMIT_ENABLED = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "demo": "2/1h"}


def test_the_third_hit_in_a_window_is_refused_with_when_to_retry(limited):
    ratelimit.hit("demo", "user:1")
    ratelimit.hit("demo", "user:1")
    with pytest.raises(RateLimited) as caught:
        ratelimit.hit("demo", "user:1")
    error = caught.value
    assert error.status == 429
    assert error.code == "rate_limited"
    assert 1 <= error.retry_after <= 3600
    assert error.detail == {"retry_after": error.retry_after}
    # A readable sentence with the local time to come back at (its Chinese is in the catalogue).
    assert re.search(r"\d\d:\d\d", str(error.message))


def test_keys_are_counted_apart(limited):
    for _ in range(2):
        ratelimit.hit("demo", "user:1")
    ratelimit.hit("demo", "user:2")  # another account still has its own allowance
    with pytest.raises(RateLimited):
        ratelimit.hit("demo", "user:1", "user:3")  # any of the keys over the limit refuses


def test_a_new_window_starts_over(limited):
    rate = Rate(1, 60)
    assert ratelimit.count("demo", "k", rate=rate, now=120.0) == 1
    assert ratelimit.count("demo", "k", rate=rate, now=150.0) == 2
    assert ratelimit.count("demo", "k", rate=rate, now=180.0) == 1  # the next minute


def test_reset_forgets_the_count(limited):
    ratelimit.hit("demo", "user:1")
    ratelimit.hit("demo", "user:1")
    ratelimit.reset("demo", "user:1")
    ratelimit.hit("demo", "user:1")


def test_switched_off_globally_or_per_limit(settings, limited):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "demo": "0"}
    for _ in range(5):
        ratelimit.hit("demo", "user:1")
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "demo": "1/1h"}
    settings.RATELIMIT_ENABLED = False
    for _ in range(5):
        ratelimit.hit("demo", "user:1")


def test_client_ip_ignores_forwarded_for_unless_told_to_trust_proxies(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    settings.YIZHAN_TRUSTED_PROXY_HOPS = 0
    assert ratelimit.client_ip(request) == "10.0.0.1"
    settings.YIZHAN_TRUSTED_PROXY_HOPS = 1
    assert ratelimit.client_ip(request) == "203.0.113.9"  # the address our proxy saw
