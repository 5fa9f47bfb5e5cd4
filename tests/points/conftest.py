import pytest

from yizhan.points.services import earning_rule_set


@pytest.fixture
def rules(world):
    """Street A pays 5 a verified report (10 a day at most) and 3 a duty hour; manual awards
    above 20 need a second approval (the default)."""
    earning_rule_set(
        street=world.street_a, activity="report_verified", points=5, daily_cap=10,
        actor=world.street_admin,
    )  # fmt: skip
    earning_rule_set(
        street=world.street_a, activity="duty_hour", points=3, weekly_cap=30,
        actor=world.street_admin,
    )  # fmt: skip
    return world
