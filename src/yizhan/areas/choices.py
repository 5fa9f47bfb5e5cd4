from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")


#: Code length at each level: a GB/T 2260 district code (6 digits), then a 3-digit sequence
#: number for the street, the community and the grid, as in Beijing's 15-digit grid codes.
CODE_LENGTH = {
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.GRID: 15,
}
PARENT_LEVEL = {
    AreaLevel.STREET: AreaLevel.DISTRICT,
    AreaLevel.COMMUNITY: AreaLevel.STREET,
    AreaLevel.GRID: AreaLevel.COMMUNITY,
}
LEVEL_FOR_LENGTH = {length: level for level, length in CODE_LENGTH.items()}
#: Levels that must carry a boundary polygon.
BOUNDED_LEVELS = frozenset({AreaLevel.COMMUNITY, AreaLevel.GRID})
