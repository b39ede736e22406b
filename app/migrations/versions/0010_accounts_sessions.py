"""auth sessions, login throttle, TOTP; a change to a user's password, role, jurisdiction, staff
link or active flag revokes their sessions (a trigger, so a change made in SQL ends them too)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_secret", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=8), server_default="full", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.Column("refresh_hash", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('api', 'page')", name=op.f("ck_auth_sessions_kind")),
        sa.CheckConstraint("purpose IN ('full', 'enrol')", name=op.f("ck_auth_sessions_purpose")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scope IN ('user', 'address')", name=op.f("ck_login_throttle_scope")),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_login_throttle")),
    )
    op.execute(
        """
        CREATE FUNCTION users_revoke_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'account_changed'
             WHERE user_id = NEW.id AND revoked_at IS NULL;
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_revoke_sessions
        AFTER UPDATE OF password_hash, role, jurisdiction_code, staff_id, is_active ON users
        FOR EACH ROW WHEN (
            OLD.password_hash IS DISTINCT FROM NEW.password_hash
            OR OLD.role IS DISTINCT FROM NEW.role
            OR OLD.jurisdiction_code IS DISTINCT FROM NEW.jurisdiction_code
            OR OLD.staff_id IS DISTINCT FROM NEW.staff_id
            OR OLD.is_active IS DISTINCT FROM NEW.is_active
        )
        EXECUTE FUNCTION users_revoke_sessions()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS users_revoke_sessions ON users")
    op.execute("DROP FUNCTION IF EXISTS users_revoke_sessions()")
    op.drop_table("login_throttle")
    op.drop_index(op.f("ix_auth_sessions_user_id"), table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_column("users", "totp_last_step")
    op.drop_column("users", "totp_enabled_at")
    op.drop_column("users", "totp_secret")
