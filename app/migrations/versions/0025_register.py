"""the register (一标三实): persons, houses, organisations, change proposals and their history

Persons, houses and organisations carry a ``grid_code`` and a ``version``; a change is a row of
``register_proposals`` until the community approves it, and each version that became current is a
row of ``register_history`` (docs/register.md). The ID number is stored only as ciphertext, keyed
hash and mask (app/register/idnumbers.py). ``access_log`` now also records reads of a person.

Row-level security as in 0012: every new table is scoped on its ``grid_code`` (a proposal also on
the grid a move leaves), the system role sees everything. ``register_id_holder`` answers, for the
duplicate check, whether an ID hash is already registered or proposed anywhere, and in which grid
only, so the caller can be told "already registered elsewhere" without seeing the record.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LO = "(SELECT current_setting('gridgov.scope', true))"
_HI = "(SELECT current_setting('gridgov.scope', true) || '~')"


def _in_scope(column: str) -> str:
    return f"({_LO} <> '' AND {column} >= {_LO} AND {column} < {_HI})"


SCOPED: dict[str, str] = {
    "persons": _in_scope("grid_code"),
    "houses": _in_scope("grid_code"),
    "organisations": _in_scope("grid_code"),
    "register_proposals": f"({_in_scope('grid_code')} OR {_in_scope('from_grid_code')})",
    "register_history": _in_scope("grid_code"),
}

_ACCESS_LOG_OLD = "household_id IN (SELECT id FROM households)"
# Each row is checked with a correlated EXISTS (one index probe per logged read), not
# ``IN (SELECT id FROM …)``, which hashes every person or household the caller may see on each
# insert (a county's million); the meaning is 0012's, extended to persons.
_ACCESS_LOG_NEW = (
    "((person_id IS NOT NULL AND EXISTS (SELECT 1 FROM persons p WHERE p.id = access_log.person_id)) "
    "OR (household_id IS NOT NULL AND EXISTS "
    "(SELECT 1 FROM households h WHERE h.id = access_log.household_id)))"
)

_ID_HOLDER = """
CREATE FUNCTION register_id_holder(h bytea) RETURNS TABLE (person_id int, grid_code varchar)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT id, grid_code FROM persons WHERE id_hash = h
    UNION ALL
    SELECT NULL, grid_code FROM register_proposals
     WHERE id_hash = h AND action = 'create' AND state IN ('submitted', 'pending')
    LIMIT 1
$$
"""


def _stamp(table: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("status", sa.String(length=12), server_default="active", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("grid_code ~ '^[0-9]{15}$'", name=op.f(f"ck_{table}_grid_code")),
        sa.CheckConstraint("version >= 1", name=op.f(f"ck_{table}_version")),
    ]


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("id_type", sa.String(length=3), server_default="111", nullable=False),
        sa.Column("id_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("id_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("id_masked", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("ethnicity", sa.String(length=2), nullable=True),
        sa.Column(
            "residence_type", sa.String(length=12), server_default="registered", nullable=False
        ),
        sa.Column("registered_address", sa.String(length=300), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("relation", sa.String(length=2), nullable=True),
        sa.Column("house_id", sa.Integer(), nullable=True),
        sa.Column(
            "special_groups", sa.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("party_member", sa.Boolean(), server_default="false", nullable=False),
        *_stamp("persons"),
        sa.CheckConstraint(
            "residence_type IN ('registered', 'floating', 'overseas')",
            name=op.f("ck_persons_residence_type"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'moved_out', 'deceased')", name=op.f("ck_persons_status")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_persons_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_persons_id_hash")),
    )
    op.create_index("ix_persons_grid_code_id", "persons", ["grid_code", "id"])
    op.create_index(op.f("ix_persons_house_id"), "persons", ["house_id"])
    op.create_index(op.f("ix_persons_household_id"), "persons", ["household_id"])

    op.create_table(
        "houses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), server_default="", nullable=False),
        sa.Column("room", sa.String(length=16), server_default="", nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("door_number_id", sa.Integer(), nullable=True),
        sa.Column("use", sa.String(length=16), server_default="self_occupied", nullable=False),
        sa.Column("landlord_person_id", sa.Integer(), nullable=True),
        sa.Column("landlord_name", sa.String(length=50), nullable=True),
        sa.Column("landlord_phone", sa.String(length=32), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        *_stamp("houses"),
        sa.CheckConstraint("status IN ('active', 'closed')", name=op.f("ck_houses_status")),
        sa.CheckConstraint(
            "use IN ('self_occupied', 'rented', 'vacant')", name=op.f("ck_houses_use")
        ),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_houses_building_id_buildings")
        ),
        sa.ForeignKeyConstraint(
            ["door_number_id"],
            ["door_numbers.id"],
            name=op.f("fk_houses_door_number_id_door_numbers"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_houses_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["landlord_person_id"],
            ["persons.id"],
            name=op.f("fk_houses_landlord_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_houses_room_id_rooms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_houses")),
        sa.UniqueConstraint("building_id", "unit", "room", name="uq_houses_address"),
    )
    for column in (
        "building_id",
        "door_number_id",
        "household_id",
        "landlord_person_id",
        "room_id",
    ):
        op.create_index(op.f(f"ix_houses_{column}"), "houses", [column])
    op.create_index("ix_houses_grid_code_id", "houses", ["grid_code", "id"])
    op.create_foreign_key(
        op.f("fk_persons_house_id_houses"), "persons", "houses", ["house_id"], ["id"]
    )

    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column(
            "location",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4490, spatial_index=False),
            nullable=True,
        ),
        sa.Column("contact_name", sa.String(length=50), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        *_stamp("organisations"),
        sa.CheckConstraint(
            "kind IN ('enterprise', 'public_institution', 'government', 'social_org', 'shop', "
            "'other')",
            name=op.f("ck_organisations_kind"),
        ),
        sa.CheckConstraint("status IN ('active', 'closed')", name=op.f("ck_organisations_status")),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_organisations_building_id_buildings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_index(op.f("ix_organisations_building_id"), "organisations", ["building_id"])
    op.create_index("ix_organisations_grid_code_id", "organisations", ["grid_code", "id"])
    op.create_index(
        "ix_organisations_location", "organisations", ["location"], postgresql_using="gist"
    )
    op.create_index(
        "uq_organisations_credit_code",
        "organisations",
        ["credit_code"],
        unique=True,
        postgresql_where=sa.text("credit_code IS NOT NULL"),
    )

    op.create_table(
        "register_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("from_grid_code", sa.String(length=15), nullable=True),
        sa.Column("before", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("after", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("id_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("id_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("state", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column(
            "proposed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'move', 'remove')",
            name=op.f("ck_register_proposals_action"),
        ),
        sa.CheckConstraint(
            "grid_code ~ '^[0-9]{15}$'", name=op.f("ck_register_proposals_grid_code")
        ),
        sa.CheckConstraint(
            "kind IN ('person', 'house', 'organisation', 'household')",
            name=op.f("ck_register_proposals_kind"),
        ),
        sa.CheckConstraint(
            "state <> 'returned' OR reason IS NOT NULL",
            name=op.f("ck_register_proposals_returned_reason"),
        ),
        sa.CheckConstraint(
            "state IN ('submitted', 'pending', 'approved', 'returned', 'withdrawn')",
            name=op.f("ck_register_proposals_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_proposals")),
        sa.UniqueConstraint("client_id", name=op.f("uq_register_proposals_client_id")),
    )
    op.create_index("ix_register_proposals_id_hash", "register_proposals", ["id_hash"])
    op.create_index(
        "ix_register_proposals_state_grid_id", "register_proposals", ["state", "grid_code", "id"]
    )
    op.create_index("ix_register_proposals_target", "register_proposals", ["kind", "target_id"])
    op.create_index("ix_register_proposals_state_id", "register_proposals", ["state", "id"])

    op.create_table(
        "register_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("grid_code ~ '^[0-9]{15}$'", name=op.f("ck_register_history_grid_code")),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["register_proposals.id"],
            name=op.f("fk_register_history_proposal_id_register_proposals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_history")),
        sa.UniqueConstraint("kind", "record_id", "version", name="uq_register_history_version"),
    )

    # Reads of a person are logged beside reads of a household.
    op.add_column("access_log", sa.Column("person_id", sa.Integer(), nullable=True))
    op.alter_column("access_log", "household_id", existing_type=sa.Integer(), nullable=True)
    op.create_index("ix_access_log_person_at", "access_log", ["person_id", "at"])
    op.create_foreign_key(
        op.f("fk_access_log_person_id_persons"), "access_log", "persons", ["person_id"], ["id"]
    )
    op.create_check_constraint(
        op.f("ck_access_log_subject"),
        "access_log",
        "household_id IS NOT NULL OR person_id IS NOT NULL",
    )
    op.execute("DROP POLICY app_scope ON access_log")
    op.execute(
        f"CREATE POLICY app_scope ON access_log TO gridgov_app "
        f"USING ({_ACCESS_LOG_NEW}) WITH CHECK ({_ACCESS_LOG_NEW})"
    )

    for table, condition in SCOPED.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY app_scope ON {table} TO gridgov_app "
            f"USING ({condition}) WITH CHECK ({condition})"
        )
        op.execute(
            f"CREATE POLICY system_all ON {table} TO gridgov_system USING (true) WITH CHECK (true)"
        )
    op.execute(_ID_HOLDER)
    op.execute("REVOKE ALL ON FUNCTION register_id_holder(bytea) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION register_id_holder(bytea) TO gridgov_app, gridgov_system")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS register_id_holder(bytea)")
    op.execute("DROP POLICY app_scope ON access_log")
    op.execute(
        f"CREATE POLICY app_scope ON access_log TO gridgov_app "
        f"USING ({_ACCESS_LOG_OLD}) WITH CHECK ({_ACCESS_LOG_OLD})"
    )
    # Going back drops the person reads from the (otherwise append-only) log.
    op.execute("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only")
    op.execute("DELETE FROM access_log WHERE household_id IS NULL")
    op.execute("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only")
    op.drop_constraint(op.f("ck_access_log_subject"), "access_log", type_="check")
    op.drop_constraint(op.f("fk_access_log_person_id_persons"), "access_log", type_="foreignkey")
    op.drop_index("ix_access_log_person_at", table_name="access_log")
    op.alter_column("access_log", "household_id", existing_type=sa.Integer(), nullable=False)
    op.drop_column("access_log", "person_id")
    op.drop_table("register_history")
    op.drop_table("register_proposals")
    op.drop_table("organisations")
    op.drop_constraint(op.f("fk_persons_house_id_houses"), "persons", type_="foreignkey")
    op.drop_table("houses")
    op.drop_table("persons")
