"""SQL of the write-time visit rollups (migration 0008): triggers that keep them exact, a backfill.

``household_visit_stats`` (first and last visit per household) and ``worker_visit_days`` (visits
per grid, worker and Beijing day) follow every change to ``visits``. The triggers are per
statement with transition tables, so a bulk load aggregates once instead of firing per row:

- INSERT adds: first/last widen by upsert, day counts add by upsert;
- DELETE removes: day counts subtract (rows reaching zero go), and the touched households' first
  and last are recomputed from the visits left (a deleted visit may have been the first or last);
- UPDATE is a delete of the old rows and an insert of the new ones, so it stays exact too;
- TRUNCATE empties both.

Rows are upserted in key order, so concurrent writers lock them in the same order (no deadlock
between two bulk loads). ``households_revision`` takes a fresh sequence value on every statement
that writes households' ids, locations or groups; the in-memory household-to-grid cache keys on it.

Beijing has kept UTC+8 all year since 1991: a Beijing day is UTC + 8 hours, cut at midnight.
"""

from __future__ import annotations

BEIJING_DAY = "((visited_at AT TIME ZONE 'UTC') + interval '8 hours')::date"

_ADD_DAYS = f"""
    INSERT INTO worker_visit_days AS w (grid_code, worker_id, day, visits)
    SELECT grid_code, worker_id, {BEIJING_DAY}, count(*) FROM {{rows}}
    WHERE grid_code IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (grid_code, worker_id, day) DO UPDATE SET visits = w.visits + EXCLUDED.visits;
"""

_REMOVE_DAYS = f"""
    WITH gone AS (
        SELECT grid_code, worker_id, {BEIJING_DAY} AS day, count(*) AS n FROM old_rows
        WHERE grid_code IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3)
    UPDATE worker_visit_days w SET visits = w.visits - gone.n FROM gone
    WHERE (w.grid_code, w.worker_id, w.day) = (gone.grid_code, gone.worker_id, gone.day);
    DELETE FROM worker_visit_days w USING (SELECT DISTINCT grid_code, worker_id,
        {BEIJING_DAY} AS day FROM old_rows WHERE grid_code IS NOT NULL) gone
    WHERE (w.grid_code, w.worker_id, w.day) = (gone.grid_code, gone.worker_id, gone.day)
      AND w.visits <= 0;
"""

_ADD_HOUSEHOLDS = """
    INSERT INTO household_visit_stats AS s (household_id, first_visit_at, last_visit_at)
    SELECT household_id, min(visited_at), max(visited_at) FROM new_rows GROUP BY 1 ORDER BY 1
    ON CONFLICT (household_id) DO UPDATE SET
        first_visit_at = least(s.first_visit_at, EXCLUDED.first_visit_at),
        last_visit_at = greatest(s.last_visit_at, EXCLUDED.last_visit_at);
"""

# The households whose visits changed get their first/last again from the visits they still have.
_RECOMPUTE_HOUSEHOLDS = """
    DELETE FROM household_visit_stats s USING (SELECT DISTINCT household_id FROM {rows}) t
    WHERE s.household_id = t.household_id;
    INSERT INTO household_visit_stats (household_id, first_visit_at, last_visit_at)
    SELECT v.household_id, min(v.visited_at), max(v.visited_at) FROM visits v
    WHERE v.household_id IN (SELECT household_id FROM {rows}) GROUP BY 1 ORDER BY 1;
"""


def _function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\n    RETURN NULL;\nEND;\n$$;"
    )


_AFTER_UPDATE = """
    SELECT household_id FROM old_rows UNION SELECT household_id FROM new_rows
"""

UPGRADE = [
    _function(
        "visit_rollups_insert",
        _ADD_HOUSEHOLDS + _ADD_DAYS.format(rows="new_rows"),
    ),
    _function(
        "visit_rollups_delete",
        _RECOMPUTE_HOUSEHOLDS.format(rows="old_rows") + _REMOVE_DAYS,
    ),
    _function(
        "visit_rollups_update",
        _RECOMPUTE_HOUSEHOLDS.format(rows=f"({_AFTER_UPDATE}) AS touched")
        + _REMOVE_DAYS
        + _ADD_DAYS.format(rows="new_rows"),
    ),
    _function(
        "visit_rollups_truncate",
        "    TRUNCATE household_visit_stats, worker_visit_days;",
    ),
    "CREATE TRIGGER visits_rollup_insert AFTER INSERT ON visits REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION visit_rollups_insert()",
    "CREATE TRIGGER visits_rollup_delete AFTER DELETE ON visits REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION visit_rollups_delete()",
    "CREATE TRIGGER visits_rollup_update AFTER UPDATE ON visits "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION visit_rollups_update()",
    "CREATE TRIGGER visits_rollup_truncate AFTER TRUNCATE ON visits "
    "FOR EACH STATEMENT EXECUTE FUNCTION visit_rollups_truncate()",
    "CREATE SEQUENCE households_revision_seq",
    "INSERT INTO households_revision (id, revision) VALUES (1, nextval('households_revision_seq'))",
    _function(
        "bump_households_revision",
        "    UPDATE households_revision SET revision = nextval('households_revision_seq') "
        "WHERE id = 1;",
    ),
    "CREATE TRIGGER households_bump_revision "
    "AFTER INSERT OR DELETE OR UPDATE OF id, location, special_groups ON households "
    "FOR EACH STATEMENT EXECUTE FUNCTION bump_households_revision()",
    "CREATE TRIGGER households_truncate_revision AFTER TRUNCATE ON households "
    "FOR EACH STATEMENT EXECUTE FUNCTION bump_households_revision()",
]

DOWNGRADE = [
    "DROP TRIGGER IF EXISTS households_truncate_revision ON households",
    "DROP TRIGGER IF EXISTS households_bump_revision ON households",
    "DROP FUNCTION IF EXISTS bump_households_revision()",
    "DROP SEQUENCE IF EXISTS households_revision_seq",
    *(
        f"DROP TRIGGER IF EXISTS visits_rollup_{event} ON visits"
        for event in ("insert", "delete", "update", "truncate")
    ),
    *(
        f"DROP FUNCTION IF EXISTS visit_rollups_{event}()"
        for event in ("insert", "delete", "update", "truncate")
    ),
]

# Rebuild both rollups from the visits (the migration runs it; the bench times it). One
# INSERT … SELECT each, in key order.
BACKFILL = [
    "TRUNCATE household_visit_stats, worker_visit_days",
    "INSERT INTO household_visit_stats (household_id, first_visit_at, last_visit_at) "
    "SELECT household_id, min(visited_at), max(visited_at) FROM visits GROUP BY 1 ORDER BY 1",
    "INSERT INTO worker_visit_days (grid_code, worker_id, day, visits) "
    f"SELECT grid_code, worker_id, {BEIJING_DAY}, count(*) FROM visits "
    "WHERE grid_code IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
]
