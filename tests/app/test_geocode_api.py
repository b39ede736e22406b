"""GET /api/v1/geocode against the tiny county's one-building gazetteer."""

import pytest

from tests.factories import G11, tiny_county


@pytest.fixture
def county(db):
    tiny_county(db)
    db.commit()


@pytest.mark.parametrize(
    ("address", "level", "matched_on"),
    [
        ("示范县城关街道幸福社区阳光花园3号楼", "building", "exact"),
        ("幸福社区阳光花园三号楼2单元501室", "room", "exact"),
        ("阳光花园3栋", "building", "alias"),
        ("阳光花苑3号楼", "building", "fuzzy"),
        ("阳光花园", "compound", "exact"),
    ],
)
def test_address_matches_building_then_locates_it(client, county, address, level, matched_on):
    r = client.get("/api/v1/geocode", params={"address": address})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["building"]["code"] == "B1"
    assert body["match_level"] == level and body["matched_on"] == matched_on
    assert body["location"]["grid"]["code"] == G11
    assert body["location"]["leader"]["name"] == "张伟"


def test_unknown_address_is_404_with_closest_candidates(client, county):
    r = client.get("/api/v1/geocode", params={"address": "火星基地99号楼"})
    assert r.status_code == 404
    body = r.json()
    assert "未找到" in body["detail"]
    assert isinstance(body["context"]["candidates"], list)


def test_empty_address_is_422(client, county):
    r = client.get("/api/v1/geocode", params={"address": ""})
    assert r.status_code == 422 and "address" in r.json()["detail"]
