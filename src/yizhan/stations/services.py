"""Every write to the station registry."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.areas.selectors import grid_for_point
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError
from yizhan.core.permissions import Action, require
from yizhan.people.validation import check_point
from yizhan.stations.choices import StationKind
from yizhan.stations.models import Station


@transaction.atomic
def station_create(
    *,
    name: str,
    kind: str,
    community: Any,
    lat: Any,
    lng: Any,
    actor: Any,
    address: str = "",
) -> Station:
    """A station in a community; its grid follows from its location."""
    if not isinstance(community, Area) or community.level != AreaLevel.COMMUNITY:
        raise ApplicationError(_("Please choose a community."), field="community")
    require(actor, Action.OPERATE, community)
    if kind not in StationKind.values:
        raise ApplicationError(_("Please choose a valid kind of station."), field="kind")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApplicationError(_("A station needs a name of at most 100 characters."), field="name")
    lat, lng = check_point(lat, lng)
    grid = grid_for_point(lat, lng, within=community)
    station = Station.objects.create(
        name=name,
        kind=kind,
        community=community,
        grid=grid,
        area_code=grid.code if grid else community.code,
        address=(address or "").strip()[:200],
        lat=lat,
        lng=lng,
    )
    log_action(actor=actor, action="station.created", target=station, data={"name": name})
    return station
