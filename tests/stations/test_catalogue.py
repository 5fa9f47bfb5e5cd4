"""The service catalogue: only the operator changes it, bits are handed out in order and never
reused, and the cached copy follows every change."""

import pytest
from django.core.cache import cache
from django.db import transaction

from tests.world import PASSWORD
from yizhan.core.models import AuditEntry
from yizhan.people.services import account_create
from yizhan.stations import selectors
from yizhan.stations import services as s
from yizhan.stations.models import MAX_SERVICE_BITS, ServiceItem

from .test_services import refused

SEEDED = 16  # migration 0003
CACHE_KEY = "stations:catalogue:v1"


@pytest.fixture
def operator(db):
    return account_create(
        username="operator", name="平台", role="admin", password=PASSWORD, is_superuser=True
    )


@pytest.fixture(autouse=True)
def fresh_cache():
    """The cache outlives a test's database: start and end each test without the catalogue."""
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


def state():
    return (
        list(ServiceItem.objects.order_by("bit").values_list("code", "bit", "name", "is_active")),
        AuditEntry.objects.count(),
    )


def test_the_seeded_catalogue(db):
    codes = [code for code, *_ in s.catalogue()]
    assert len(codes) == SEEDED and codes[:4] == ["rest", "water", "meal_heating", "phone_charging"]
    assert [bit for _c, bit, *_ in s.catalogue()] == list(range(SEEDED))


def test_bits_are_given_in_order_and_the_cache_follows(
    operator, django_capture_on_commit_callbacks
):
    assert len(s.catalogue()) == SEEDED  # the cache now holds the seeded list
    with django_capture_on_commit_callbacks() as callbacks:
        shade = s.service_item_create(code="shade", name="遮阳", name_en="Shade", actor=operator)
    assert shade.bit == SEEDED and len(callbacks) == 1  # the cache is dropped on commit
    # Until then this transaction reads the catalogue itself and leaves the cache alone.
    assert cache.get(CACHE_KEY) is not None and len(cache.get(CACHE_KEY)) == SEEDED
    umbrella = s.service_item_create(code="umbrella", name="借伞", name_en="Umbrella",
                                     actor=operator, sort_order=1)  # fmt: skip
    assert umbrella.bit == SEEDED + 1
    # services_mask sees both at once, by code and by name.
    assert s.services_mask("shade, 借伞") == (1 << SEEDED) | (1 << (SEEDED + 1))
    assert s.service_codes(1 << SEEDED) == ["shade"]
    assert ("umbrella", "借伞") in selectors.active_services()
    entry = AuditEntry.objects.get(action="service_item.created", target_id=str(shade.pk))
    assert entry.actor == operator and entry.data == {"code": "shade"}


def test_a_retired_service_keeps_its_bit(operator):
    item = ServiceItem.objects.get(code="books")
    s.service_item_update(item=item, actor=operator, is_active=False, name_en="Book corner")
    refused(lambda: s.services_mask("books"), code="unknown_service")
    assert s.service_codes(1 << item.bit) == ["books"]  # old masks keep their meaning
    assert "books" not in [code for code, _label in selectors.active_services()]
    new = s.service_item_create(code="library", name="图书角", name_en="Library", actor=operator)
    assert new.bit == SEEDED and item.bit != new.bit
    s.service_item_update(item=item, actor=operator, is_active=True)
    assert s.services_mask(["books"]) == 1 << item.bit
    entry = AuditEntry.objects.filter(action="service_item.updated").order_by("id").first()
    assert entry.data == {"name_en": "Book corner", "is_active": False}


def test_a_rolled_back_change_leaves_no_trace_in_the_cache(operator):
    s.catalogue()
    with pytest.raises(RuntimeError), transaction.atomic():
        s.service_item_create(code="ghost", name="幽灵", name_en="Ghost", actor=operator)
        assert "ghost" in [code for code, *_ in s.catalogue()]
        raise RuntimeError
    assert "ghost" not in [code for code, *_ in s.catalogue()]
    assert cache.get(CACHE_KEY) is None or all(code != "ghost" for code, *_ in cache.get(CACHE_KEY))
    refused(lambda: s.services_mask("ghost"), code="unknown_service")


def test_the_catalogue_holds_63_services(operator):
    for i in range(SEEDED, MAX_SERVICE_BITS):
        item = s.service_item_create(code=f"s{i}", name=f"服务{i}", name_en=f"S{i}", actor=operator)
        assert item.bit == i
    before = state()
    refused(lambda: s.service_item_create(code="one_more", name="多一个", name_en="More",
                                          actor=operator))  # fmt: skip
    assert state() == before
    # The highest bit works in a mask (a signed 64-bit column holds bit 62).
    assert s.services_mask(f"s{MAX_SERVICE_BITS - 1}") == 1 << 62


@pytest.mark.parametrize("who", ["street_admin", "district_admin", "community_staff", "merchant",
                                 "rider"])  # fmt: skip
def test_only_the_operator_changes_the_catalogue(world, who):
    before = state()
    actor = world.account(who)
    refused(lambda: s.service_item_create(code="shade", name="遮阳", name_en="Shade",
                                          actor=actor), status=403)  # fmt: skip
    refused(lambda: s.service_item_update(item=ServiceItem.objects.get(code="rest"), actor=actor,
                                          is_active=False), status=403)  # fmt: skip
    assert state() == before


def test_anonymous_is_asked_to_log_in(db):
    from django.contrib.auth.models import AnonymousUser

    before = state()
    refused(lambda: s.service_item_create(code="shade", name="遮阳", name_en="Shade",
                                          actor=AnonymousUser()), status=401)  # fmt: skip
    assert state() == before


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"code": "rest"}, 409),
        ({"code": "Shade Tree"}, 400),
        ({"code": "1st"}, 400),
        ({"code": "x"}, 400),
        ({"code": "a" * 33}, 400),
        ({"name": ""}, 400),
        ({"name_en": ""}, 400),
        ({"name": "长" * 41}, 400),
        ({"sort_order": -1}, 400),
        ({"sort_order": "first"}, 400),
    ],
)
def test_bad_catalogue_entries(operator, kwargs, status):
    values = {"code": "shade", "name": "遮阳", "name_en": "Shade", **kwargs}
    before = state()
    refused(lambda: s.service_item_create(actor=operator, **values), status=status)
    assert state() == before


@pytest.mark.parametrize(
    "kwargs", [{"name": ""}, {"name_en": " "}, {"name": "长" * 41}, {"sort_order": -5}]
)
def test_bad_catalogue_updates(operator, kwargs):
    before = state()
    refused(lambda: s.service_item_update(item=ServiceItem.objects.get(code="rest"),
                                          actor=operator, **kwargs))  # fmt: skip
    assert state() == before


def test_an_update_without_changes_writes_nothing(operator):
    before = state()
    s.service_item_update(item=ServiceItem.objects.get(code="rest"), actor=operator)
    assert state() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_commit_every_reader_sees_the_new_service():
    operator = account_create(
        username="operator", name="平台", role="admin", password=PASSWORD, is_superuser=True
    )
    assert len(s.catalogue()) == SEEDED
    cached = cache.get(CACHE_KEY)
    assert cached is not None and len(cached) == SEEDED
    s.service_item_create(code="shade", name="遮阳", name_en="Shade", actor=operator)
    # Committed: the shared cache was dropped, the next read fills it with the new list.
    assert cache.get(CACHE_KEY) is None
    assert s.services_mask("遮阳") == 1 << SEEDED
    assert len(cache.get(CACHE_KEY)) == SEEDED + 1
