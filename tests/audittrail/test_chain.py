"""The hash chain: verify finds edits and deletions by row number; purge keeps it verifiable;
concurrent appends stay one chain; only the retention role may purge."""

from __future__ import annotations

import argparse
import datetime as dt
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.audittrail import record_event, record_event_now
from app.audittrail.chain import verify
from app.audittrail.cli import cmd_purge, cmd_verify
from app.audittrail.service import purge
from app.settings import Settings


def _append(db: Session, n: int, actor: str = "alice") -> list[int]:
    for i in range(n):
        record_event(
            db,
            actor=actor,
            address="10.1.2.3",
            action="http.write",
            object=f"POST /api/v1/thing/{i}",
            outcome="success",
            detail={"status": 200, "名称": f"第{i}次"},
        )
    return list(
        db.scalars(text("SELECT id FROM audit_events ORDER BY id DESC LIMIT :n"), {"n": n})
    )[::-1]


def _as_superuser_without_triggers(db: Session) -> None:
    """The test cluster's superuser switches triggers off for this transaction: what an attacker
    with the database's keys could do, and what the chain must reveal."""
    db.execute(text("SET LOCAL session_replication_role = replica"))


def test_an_untouched_chain_verifies(db):
    ids = _append(db, 5)
    verdict = verify(db)
    assert verdict.ok, verdict.message()
    assert verdict.last_id == ids[-1]
    assert verdict.message().startswith("审计日志完整")


def test_an_edited_row_is_found_by_its_number(db):
    ids = _append(db, 5)
    _as_superuser_without_triggers(db)
    db.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"), {"id": ids[2]})
    verdict = verify(db)
    assert not verdict.ok
    assert verdict.broken_at == ids[2]
    assert verdict.message() == f"审计日志在第 {ids[2]} 条处断裂：内容与哈希不符（记录被修改）"


def test_an_edit_that_recomputes_its_own_hash_breaks_the_next_link(db):
    ids = _append(db, 4)
    _as_superuser_without_triggers(db)
    db.execute(
        text("UPDATE audit_events SET outcome = 'refused', hash = repeat('a', 64) WHERE id = :id"),
        {"id": ids[1]},
    )
    verdict = verify(db)
    assert not verdict.ok
    assert verdict.broken_at == ids[1]  # its content no longer gives its hash


def test_a_deleted_row_is_found(db):
    ids = _append(db, 5)
    _as_superuser_without_triggers(db)
    db.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[3]})
    verdict = verify(db)
    assert not verdict.ok
    assert verdict.broken_at == ids[3]
    assert "缺失" in verdict.reason


def test_deleting_the_oldest_rows_without_an_anchor_is_found(db):
    ids = _append(db, 3)
    _as_superuser_without_triggers(db)
    db.execute(text("DELETE FROM audit_events WHERE id <= :id"), {"id": ids[0]})
    verdict = verify(db)
    assert not verdict.ok
    assert verdict.broken_at == ids[0] + 1
    assert "没有清理锚点" in verdict.reason


def test_purge_deletes_old_rows_and_the_chain_still_verifies(db):
    ids = _append(db, 4)
    cutoff = dt.datetime.now(dt.UTC)
    deleted = purge(db, before=cutoff, purged_by="cli:ops")
    assert deleted >= 4
    assert (
        db.scalar(text("SELECT count(*) FROM audit_events WHERE id <= :id"), {"id": ids[-1]}) == 0
    )
    anchor = db.execute(
        text("SELECT id, actor, action, outcome, detail FROM audit_events ORDER BY id DESC LIMIT 1")
    ).one()
    assert (anchor.actor, anchor.action, anchor.outcome) == ("cli:ops", "audit.purge", "success")
    assert anchor.detail["through_id"] == ids[-1]
    assert anchor.detail["deleted"] == deleted
    after = _append(db, 2)
    assert after[0] == anchor.id + 1
    verdict = verify(db)
    assert verdict.ok, verdict.message()
    assert verdict.first_id == anchor.id and verdict.checked == 3
    # the session works as before (the retention role was only borrowed)
    assert db.scalar(text("SELECT current_user")) != "gridgov_audit_retention"


def test_purge_with_nothing_old_enough_changes_nothing(db):
    _append(db, 2)
    before = db.scalar(text("SELECT max(id) FROM audit_events"))
    assert purge(db, before=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), purged_by="x") == 0
    assert db.scalar(text("SELECT max(id) FROM audit_events")) == before


def test_only_the_retention_role_may_purge(db):
    _append(db, 1)
    db.execute(text("CREATE ROLE gg_test_intruder NOLOGIN"))
    db.execute(text("GRANT SELECT, INSERT, UPDATE, DELETE ON audit_events TO gg_test_intruder"))
    db.execute(text("SET LOCAL ROLE gg_test_intruder"))
    with pytest.raises(DBAPIError, match="permission denied"), db.begin_nested():
        db.execute(text("SELECT audit_events_purge(now(), 'x')"))
    with pytest.raises(DBAPIError, match="只能追加"), db.begin_nested():
        db.execute(text("DELETE FROM audit_events"))


def test_concurrent_appends_stay_one_chain(engine):
    factory = sessionmaker(engine)
    start = factory().scalar(text("SELECT coalesce(max(id), 0) FROM audit_events"))
    barrier = threading.Barrier(3)

    def append(who: str) -> None:
        barrier.wait()
        for i in range(15):
            record_event_now(
                factory,
                actor=who,
                address=None,
                action="test.concurrent",
                object=str(i),
                outcome="success",
            )

    threads = [threading.Thread(target=append, args=(f"t{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with factory() as session:
        ids = list(
            session.scalars(
                text("SELECT id FROM audit_events WHERE id > :s ORDER BY id"), {"s": start}
            )
        )
        assert ids == list(range(start + 1, start + 46))
        verdict = verify(session)
        assert verdict.ok, verdict.message()


def _settings(engine) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        environment="test", database_url=engine.url.render_as_string(hide_password=False)
    )


def test_cli_verify_exits_1_at_a_break_and_0_when_whole(engine, capsys):
    factory = sessionmaker(engine)
    for i in range(3):
        record_event_now(
            factory,
            actor="cli-test",
            address=None,
            action="test.cli",
            object=str(i),
            outcome="success",
        )
    with factory() as s:
        target = s.scalar(text("SELECT max(id) - 1 FROM audit_events"))
    args = argparse.Namespace()
    try:
        with engine.begin() as conn:  # tamper, committed, as the superuser
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(
                text("UPDATE audit_events SET object = 'x' WHERE id = :id"), {"id": target}
            )
        assert cmd_verify(args, _settings(engine)) == 1
        assert f"审计日志在第 {target} 条处断裂" in capsys.readouterr().err
    finally:
        with engine.begin() as conn:  # put it back as it was
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(
                text("UPDATE audit_events SET object = '1' WHERE id = :id"), {"id": target}
            )
    assert cmd_verify(args, _settings(engine)) == 0
    assert "审计日志完整" in capsys.readouterr().out


def test_cli_purge_keeps_the_retention_period(engine, capsys):
    with sessionmaker(engine)() as s:
        before = s.scalar(text("SELECT count(*) FROM audit_events"))
    assert cmd_purge(argparse.Namespace(), _settings(engine)) == 0
    assert "审计记录 0 条（保留期 180 天）" in capsys.readouterr().out
    with sessionmaker(engine)() as s:
        assert s.scalar(text("SELECT count(*) FROM audit_events")) == before


def test_retention_below_six_months_is_refused():
    with pytest.raises(ValueError, match="180"):
        Settings(environment="test", audit_retention_days=90)


def test_a_second_purge_may_delete_the_first_anchor(db):
    _append(db, 2)
    purge(db, before=dt.datetime.now(dt.UTC), purged_by="cli:ops")
    _append(db, 2)
    purge(db, before=dt.datetime.now(dt.UTC), purged_by="cli:ops")
    rows = db.execute(text("SELECT action FROM audit_events ORDER BY id")).scalars().all()
    assert rows == ["audit.purge"]  # the newest anchor alone
    _append(db, 1)
    verdict = verify(db)
    assert verdict.ok, verdict.message()
    assert verdict.checked == 2
