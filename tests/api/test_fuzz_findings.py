"""What schemathesis found at the full budget (make fuzz, FUZZ_EXAMPLES=25): each a clear 4xx
in the API's error shape, never a 500."""

import json

import pytest

from tests.api.helpers import client_for
from tests.appeals.builders import appeal_objects

HUGE = "-3189827432533289453497312279003136"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/reports/overdue?department={HUGE}&page_size=99&page=5977533",
        f"/api/v1/rewards/redemptions?station_id={HUGE}&page=16272&page_size=3",
    ],
)
def test_a_number_beyond_the_database_is_a_400(world, path):
    response = client_for(world.street_admin).get(path)
    assert response.status_code in (400, 422), response.content
    assert response.json()["code"] in ("out_of_range", "invalid")


def test_ids_beyond_the_database_in_a_body_are_a_400(world):
    meeting = appeal_objects(world)["meeting"]
    response = client_for(world.community_staff).put(
        f"/api/v1/meetings/{meeting.pk}/participants",
        data=json.dumps({"body_ids": [int(HUGE)], "rider_ids": []}),
        content_type="application/json",
    )
    assert response.status_code in (400, 422), response.content


def test_a_multipart_body_without_a_boundary_is_a_400(world):
    response = client_for(world.rider.user).post(
        "/api/v1/reports", data=b"--x\r\n", content_type="multipart/form-data"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_body"
    assert "multipart" in response.json()["message"]
