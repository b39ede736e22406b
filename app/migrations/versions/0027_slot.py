"""spare slot (filled in by the engineer it is reserved for, or left empty)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
