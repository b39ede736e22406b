"""Proposals: a worker files, the community approves or returns, the record becomes current with
its history; every bad input named (docs/register.md)."""

from __future__ import annotations

from sqlalchemy import text

from tests.factories import G11, G21
from tests.register.conftest import (
    ID_A,
    ID_B,
    ID_BAD_CHECK,
    ID_C,
    file_and_approve,
    proposal,
)

P = "/api/v1/register/proposals"


def _person(b1_house: int | None = None, **fields):  # type: ignore[no-untyped-def]
    base = {"name": "王小明", "id_number": ID_A, "phone": "13700001234", "grid_code": G11}
    return {**base, **fields}


def test_worker_files_a_resident_and_the_community_approves_it(client, world, db):
    r = client.post(P, json=proposal("person", "create", _person()), headers=world.worker)
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["state"] == "pending"
    assert filed["state_label"] == "待社区审核"
    diff = {d["field"]: d for d in filed["diff"]}
    assert diff["name"]["after"] == "王小明"
    assert diff["id_number"]["after"] == "410102********1230"  # masked even in the diff
    assert diff["gender"]["after"] == "1"  # read from the ID number
    assert diff["birth_date"]["after"] == "1990-03-07"

    # Nothing is current until the community approves.
    assert db.execute(text("SELECT count(*) FROM persons")).scalar() == 0
    listed = client.get(P, headers=world.dispatcher).json()
    assert [p["id"] for p in listed["data"]] == [filed["id"]]

    r = client.post(f"{P}/{filed['id']}/approve", headers=world.dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved"
    person_id = r.json()["record_id"]

    person = client.get(f"/api/v1/register/persons/{person_id}", headers=world.worker).json()
    assert person["name"] == "王小明"
    assert person["id_number"] == ID_A  # the worker serves G11: full number
    assert person["version"] == 1
    history = client.get(
        f"/api/v1/register/persons/{person_id}/history", headers=world.worker
    ).json()["data"]
    assert [(h["version"], h["proposal_id"]) for h in history] == [(1, filed["id"])]
    assert history[0]["data"]["id_number"] == "410102********1230"
    # The pending list is empty again.
    assert client.get(P, headers=world.dispatcher).json()["data"] == []


def test_the_id_number_is_never_stored_in_the_clear(client, world, db):
    file_and_approve(client, world, proposal("person", "create", _person()))
    row = db.execute(text("SELECT id_cipher, id_hash, id_masked FROM persons")).one()
    assert ID_A.encode() not in bytes(row.id_cipher)
    assert len(bytes(row.id_hash)) == 32
    assert row.id_masked == "410102********1230"
    dumped = db.execute(
        text(
            "SELECT count(*) FROM register_proposals p, register_history h "
            "WHERE p.after::text LIKE :n OR h.data::text LIKE :n"
        ),
        {"n": f"%{ID_A}%"},
    ).scalar()
    assert dumped == 0


def test_an_invalid_id_number_is_refused_naming_the_field(client, world):
    r = client.post(
        P, json=proposal("person", "create", _person(id_number=ID_BAD_CHECK)), headers=world.worker
    )
    assert r.status_code == 422
    assert r.json()["context"]["field"] == "fields.id_number"
    assert "校验码" in r.json()["detail"]
    r = client.post(
        P, json=proposal("person", "create", _person(id_number="4101021990")), headers=world.worker
    )
    assert r.status_code == 422
    assert "18位" in r.json()["detail"]


def test_the_same_person_twice_is_offered_the_existing_record(client, world, db):
    first = file_and_approve(client, world, proposal("person", "create", _person()))
    r = client.post(
        P,
        json=proposal("person", "create", _person(name="王晓明", id_number=ID_A.lower())),
        headers=world.worker,
    )
    assert r.status_code == 409
    body = r.json()
    assert body["context"]["conflict"] == "duplicate"
    assert body["context"]["existing"]["id"] == first["record_id"]
    assert db.execute(text("SELECT count(*) FROM persons")).scalar() == 1
    assert (
        db.execute(text("SELECT count(*) FROM register_proposals WHERE state = 'pending'")).scalar()
        == 0
    )


def test_a_pending_duplicate_is_refused_too(client, world):
    r = client.post(P, json=proposal("person", "create", _person()), headers=world.worker)
    assert r.status_code == 201
    r = client.post(P, json=proposal("person", "create", _person()), headers=world.worker)
    assert r.status_code == 409
    assert "待审核" in r.json()["detail"]


def test_a_replayed_submission_gets_the_same_proposal(client, world, db):
    body = proposal("person", "create", _person())
    first = client.post(P, json=body, headers=world.worker)
    again = client.post(P, json=body, headers=world.worker)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert db.execute(text("SELECT count(*) FROM register_proposals")).scalar() == 1


def test_a_change_on_a_record_changed_since_read_is_a_conflict_with_both_versions(client, world):
    made = file_and_approve(client, world, proposal("person", "create", _person()))
    pid = made["record_id"]
    file_and_approve(
        client,
        world,
        proposal("person", "update", {"phone": "13700005678"}, target_id=pid, base_version=1),
    )
    r = client.post(
        P,
        json=proposal("person", "update", {"phone": "13911112222"}, target_id=pid, base_version=1),
        headers=world.worker,
    )
    assert r.status_code == 409
    ctx = r.json()["context"]
    assert ctx["conflict"] == "stale"
    assert ctx["current"]["phone"] == "13700005678"
    assert ctx["current"]["version"] == 2
    assert ctx["yours"] == {"phone": "13911112222"}


def test_approving_after_someone_else_changed_the_record_is_a_conflict(client, world):
    made = file_and_approve(client, world, proposal("person", "create", _person()))
    pid = made["record_id"]
    one = client.post(
        P,
        json=proposal("person", "update", {"phone": "13700005678"}, target_id=pid, base_version=1),
        headers=world.worker,
    ).json()
    two = client.post(
        P,
        json=proposal("person", "update", {"phone": "13911112222"}, target_id=pid, base_version=1),
        headers=world.worker,
    ).json()
    assert client.post(f"{P}/{one['id']}/approve", headers=world.dispatcher).status_code == 200
    r = client.post(f"{P}/{two['id']}/approve", headers=world.dispatcher)
    assert r.status_code == 409
    assert r.json()["context"]["current"]["phone"] == "13700005678"
    assert r.json()["context"]["yours"]["diff"][0]["after"] == "13911112222"


def test_a_worker_outside_their_grids_is_refused_without_naming_the_record(client, world):
    # G21 lies in the worker's township but is not a grid they serve.
    r = client.post(
        P,
        json=proposal("house", "create", {"building_id": world.b2, "unit": "1", "room": "301"}),
        headers=world.worker,
    )
    assert r.status_code == 403
    assert "网格" in r.json()["detail"]
    assert "和平苑" not in r.text and str(world.b2) not in r.json()["detail"]
    # An existing person of G21 (made by the admin): same answer, the record unnamed.
    made = client.post(
        P,
        json=proposal("person", "create", _person(name="赵六", id_number=ID_C, grid_code=G21)),
        headers=world.admin,
    )
    assert made.status_code == 201
    done = client.post(f"{P}/{made.json()['id']}/approve", headers=world.dispatcher_c2)
    assert done.status_code == 200, done.text
    pid = done.json()["record_id"]
    r = client.post(
        P,
        json=proposal("person", "update", {"phone": "13800000000"}, target_id=pid, base_version=1),
        headers=world.worker,
    )
    assert r.status_code == 403
    assert "赵" not in r.text and str(pid) not in r.json()["detail"]


def test_the_community_returns_a_change_with_a_reason(client, world):
    filed = client.post(
        P, json=proposal("person", "create", _person()), headers=world.worker
    ).json()
    r = client.post(f"{P}/{filed['id']}/return", json={"reason": ""}, headers=world.dispatcher)
    assert r.status_code == 422
    r = client.post(
        f"{P}/{filed['id']}/return",
        json={"reason": "电话号码与本人不符，请核实"},
        headers=world.dispatcher,
    )
    assert r.status_code == 200
    assert (r.json()["state"], r.json()["reason"]) == ("returned", "电话号码与本人不符，请核实")
    r = client.post(f"{P}/{filed['id']}/approve", headers=world.dispatcher)
    assert r.status_code == 409
    assert "已退回" in r.json()["detail"]
    mine = client.get(P, params={"state": "returned", "mine": "true"}, headers=world.worker)
    assert [p["id"] for p in mine.json()["data"]] == [filed["id"]]


def test_nobody_reviews_their_own_change_and_workers_do_not_review(client, world):
    filed = client.post(P, json=proposal("person", "create", _person()), headers=world.admin).json()
    assert client.post(f"{P}/{filed['id']}/approve", headers=world.admin).status_code == 403
    assert client.post(f"{P}/{filed['id']}/approve", headers=world.worker).status_code == 403
    # Another community's dispatcher does not see it at all.
    assert client.post(f"{P}/{filed['id']}/approve", headers=world.dispatcher_c2).status_code == 404


def test_a_floating_tenant_in_a_rented_house_counts_as_a_household(client, world, db):
    before = db.execute(text("SELECT count(*) FROM households")).scalar()
    house = file_and_approve(
        client,
        world,
        proposal(
            "house",
            "create",
            {
                "building_id": world.b1,
                "unit": "2",
                "room": "501",
                "use": "rented",
                "landlord_name": "陈房东",
                "landlord_phone": "13600001111",
            },
        ),
    )
    assert db.execute(text("SELECT count(*) FROM households")).scalar() == before + 1
    tenant = file_and_approve(
        client,
        world,
        proposal(
            "person",
            "create",
            {
                "name": "刘流动",
                "id_number": ID_B,
                "residence_type": "floating",
                "house_id": house["record_id"],
                "special_groups": ["key_youth"],
            },
        ),
    )
    got = client.get(f"/api/v1/register/houses/{house['record_id']}", headers=world.worker).json()
    assert got["use"] == "rented"
    assert [p["name"] for p in got["residents"]] == ["刘流动"]
    person = got["residents"][0]
    assert person["grid_code"] == G11  # from the house
    assert person["special_groups"] == ["key_youth", "floating_population"]
    groups = db.execute(
        text("SELECT special_groups FROM households WHERE id = :h"), {"h": got["household_id"]}
    ).scalar()
    assert sorted(groups) == ["floating_population", "key_youth"]
    assert tenant["state"] == "approved"


def test_moving_a_household_moves_its_people_in_one_transaction(client, world, db):
    hh = db.execute(text("SELECT id FROM households WHERE room = '101' AND unit = '1'")).scalar()
    for name, number in (("户主甲", ID_A), ("家属乙", ID_B)):
        file_and_approve(
            client,
            world,
            proposal("person", "create", {"name": name, "id_number": number, "household_id": hh}),
        )
    r = client.post(
        P,
        json=proposal(
            "household", "move", {"building_id": world.b2, "unit": "1", "room": "202"}, target_id=hh
        ),
        headers=world.admin,
    )
    assert r.status_code == 201, r.text
    # The move leaves C1 for C2: neither community alone approves it, their township does.
    assert (
        client.post(f"{P}/{r.json()['id']}/approve", headers=world.dispatcher_c2).status_code == 403
    )
    assert client.post(f"{P}/{r.json()['id']}/approve", headers=world.dispatcher).status_code == 403
    r2 = client.post(f"{P}/{r.json()['id']}/approve", headers=world.township_dispatcher)
    assert r2.status_code == 200, r2.text
    rows = db.execute(
        text("SELECT grid_code, version FROM persons WHERE household_id = :h ORDER BY id"),
        {"h": hh},
    ).all()
    assert [tuple(r) for r in rows] == [(G21, 2), (G21, 2)]


def test_special_groups_are_one_code_table():
    from app.buildings.models import SPECIAL_GROUPS
    from app.visits.service import GROUP_LABELS

    assert SPECIAL_GROUPS[:7] == (
        "hardship", "critically_ill", "empty_nest_elderly", "left_behind_child", "petitioner",
        "disabled", "community_correction",
    )  # fmt: skip
    for code in ("released_prisoner", "severe_mental_disorder", "drug_user", "key_youth",
                 "left_behind_woman", "left_behind_elderly", "floating_population"):  # fmt: skip
        assert code in SPECIAL_GROUPS
    assert GROUP_LABELS["released_prisoner"] == "刑满释放人员"
    assert GROUP_LABELS["hardship"] == "困难家庭"


def test_every_read_of_a_person_is_logged(client, world, db):
    made = file_and_approve(client, world, proposal("person", "create", _person()))
    pid = made["record_id"]
    before = db.execute(text("SELECT count(*) FROM access_log WHERE person_id = :p"), {"p": pid})
    assert before.scalar() == 0
    client.get("/api/v1/register/persons", params={"grid": G11}, headers=world.auditor)
    client.get(f"/api/v1/register/persons/{pid}", headers=world.dispatcher)
    client.post("/api/v1/register/persons/lookup", json={"id_number": ID_A}, headers=world.worker)
    rows = db.execute(
        text("SELECT username, purpose FROM access_log WHERE person_id = :p ORDER BY id"),
        {"p": pid},
    ).all()
    assert [r.username for r in rows] == ["auditor1", "c1_dispatcher", "lina"]
    assert rows[2].purpose == "POST /api/v1/register/persons/lookup"  # the number is not in it
    # The auditor saw the person masked.
    listed = client.get("/api/v1/register/persons", params={"grid": G11}, headers=world.auditor)
    person = listed.json()["data"][0]
    assert (person["name"], person["id_number"], person["phone"]) == (
        "王*明",
        "410102********1230",
        "137****1234",
    )


def test_a_residents_change_waits_for_the_building_leader_then_the_community(
    client, world, token_for
):
    leader = token_for("building_leader", G11, "leader_g11")
    other_leader = token_for("building_leader", G21, "leader_g21")
    filed = client.post(
        P, json=proposal("person", "create", _person(), confirm=True), headers=world.worker
    ).json()
    assert (filed["state"], filed["state_label"]) == ("submitted", "待楼栋长确认")
    # Not the community's yet, and not another grid's leader's to confirm.
    r = client.post(f"{P}/{filed['id']}/approve", headers=world.dispatcher)
    assert r.status_code == 409 and "待楼栋长确认" in r.json()["detail"]
    assert client.post(f"{P}/{filed['id']}/confirm", headers=other_leader).status_code == 404
    r = client.post(f"{P}/{filed['id']}/confirm", headers=leader)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["confirmed_by"]) == ("pending", "leader_g11")
    assert client.post(f"{P}/{filed['id']}/approve", headers=world.dispatcher).status_code == 200
    # A leader's own report goes straight to the community.
    own = client.post(
        P,
        json=proposal("person", "create", _person(name="李四", id_number=ID_B), confirm=True),
        headers=leader,
    )
    assert own.status_code == 201 and own.json()["state"] == "pending"
    # Withdrawn by its proposer only.
    assert client.post(f"{P}/{own.json()['id']}/withdraw", headers=world.worker).status_code == 403
    assert client.post(f"{P}/{own.json()['id']}/withdraw", headers=leader).json()["state"] == (
        "withdrawn"
    )
