import pytest

from yizhan.core.errors import ApplicationError
from yizhan.people.choices import MemberRole
from yizhan.people.models import Team, TeamMembership
from yizhan.people.services import (
    team_add_member,
    team_create,
    team_remove_member,
    team_set_leader,
)


def test_team_with_members_and_a_leader(world):
    team = team_create(name="爱心骑手队", area=world.street_a, actor=world.street_admin)
    team_add_member(team=team, rider=world.rider, actor=world.street_admin, leader=True)
    team_add_member(team=team, rider=world.other_rider, actor=world.street_admin)
    team.refresh_from_db()
    assert team.leader == world.rider
    roles = dict(TeamMembership.objects.values_list("rider_id", "role"))
    assert roles == {world.rider.pk: MemberRole.LEADER, world.other_rider.pk: MemberRole.MEMBER}
    team_set_leader(team=team, rider=world.other_rider, actor=world.street_admin)
    team.refresh_from_db()
    assert team.leader == world.other_rider
    team_remove_member(
        membership=TeamMembership.objects.get(rider=world.other_rider), actor=world.street_admin
    )
    team.refresh_from_db()
    assert team.leader is None


def test_team_rules(world):
    team = team_create(name="爱心骑手队", area=world.community_a1, actor=world.community_staff)
    with pytest.raises(ApplicationError) as exc:
        team_create(name="爱心骑手队", area=world.community_a1, actor=world.community_staff)
    assert exc.value.status == 409
    with pytest.raises(ApplicationError) as exc:
        team_add_member(team=team, rider=world.other_rider, actor=world.street_admin)
    assert exc.value.code == "outside_area"
    with pytest.raises(ApplicationError) as exc:
        team_add_member(team=team, rider=world.pending_rider, actor=world.community_staff)
    assert exc.value.code == "not_verified"
    team_add_member(team=team, rider=world.rider, actor=world.community_staff)
    with pytest.raises(ApplicationError) as exc:
        team_add_member(team=team, rider=world.rider, actor=world.community_staff)
    assert exc.value.status == 409
    with pytest.raises(ApplicationError) as exc:
        team_add_member(team=team, rider=world.rider, actor=world.other_community_staff)
    assert exc.value.status in (403, 409)
    with pytest.raises(ApplicationError) as exc:
        team_create(name="外队", area=world.community_a1, actor=world.other_community_staff)
    assert exc.value.status == 403
    assert Team.objects.count() == 1


def test_departments_are_created_by_staff_of_the_area_once(world):
    from yizhan.people.models import Department
    from yizhan.people.services import department_create

    department = department_create(
        name="综合行政执法队", area=world.street_a, actor=world.street_admin
    )
    assert department.area_code == world.street_a.code
    with pytest.raises(ApplicationError) as exc:
        department_create(name="综合行政执法队", area=world.street_a, actor=world.street_admin)
    assert exc.value.code == "department_exists"
    with pytest.raises(ApplicationError) as exc:
        department_create(name="消防", area=world.street_a, actor=world.other_community_staff)
    assert exc.value.status == 403
    assert Department.objects.count() == 1
