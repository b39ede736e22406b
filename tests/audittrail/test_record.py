"""record_event / record_event_now: each field kept, chained by the database, append-only."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audittrail import record_event, record_event_now


def _rows(db: Session) -> list:
    return list(
        db.execute(
            text(
                "SELECT id, at, actor, address, action, object, outcome, detail, prev_hash, hash "
                "FROM audit_events ORDER BY id"
            )
        )
    )


def test_record_event_keeps_every_field_and_chains(db):
    before = db.execute(text("SELECT max(id) FROM audit_events")).scalar() or 0
    record_event(
        db,
        actor="admin",
        address="10.0.0.7",
        action="auth.login",
        object="user:admin",
        outcome="success",
        detail={"method": "password", "说明": "首次"},
    )
    record_event(
        db, actor=None, address=None, action="http.write", object="POST /x", outcome="refused"
    )
    rows = _rows(db)[-2:]
    first, second = rows
    assert first.id == before + 1 and second.id == before + 2
    assert (first.actor, first.address, first.action, first.object, first.outcome) == (
        "admin",
        "10.0.0.7",
        "auth.login",
        "user:admin",
        "success",
    )
    assert first.detail == {"method": "password", "说明": "首次"}
    assert second.actor is None and second.detail is None
    assert second.prev_hash == first.hash
    assert second.at >= first.at
    # the hash is sha256(prev_hash || canonical row), computed here by hand
    canonical = json.dumps(
        [
            second.id,
            second.at.astimezone(__import__("datetime").UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            None,
            None,
            "http.write",
            "POST /x",
            "refused",
            None,
        ],
        ensure_ascii=False,
    )
    assert second.hash == hashlib.sha256((first.hash + canonical).encode()).hexdigest()


def test_unknown_outcome_is_refused(db):
    with pytest.raises(ValueError, match="outcome"):
        record_event(db, actor=None, address=None, action="x", object="y", outcome="ok")


def test_record_event_now_commits_on_its_own(db):
    def factory() -> Session:
        return Session(bind=db.connection(), join_transaction_mode="create_savepoint")

    record_event_now(
        factory,
        actor="bob",
        address="::1",
        action="auth.login",
        object="user:bob",
        outcome="failure",
    )
    assert _rows(db)[-1].actor == "bob"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"],
)
def test_update_delete_truncate_are_refused(db, statement):
    record_event(db, actor="a", address=None, action="x", object="y", outcome="success")
    with pytest.raises(DBAPIError, match="只能追加"), db.begin_nested():
        db.execute(text(statement))


def test_a_forged_purge_anchor_is_refused(db):
    with pytest.raises(DBAPIError, match="清理锚点"), db.begin_nested():
        record_event(
            db, actor="a", address=None, action="audit.purge", object="y", outcome="success"
        )
