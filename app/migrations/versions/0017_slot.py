"""spare slot (filled in by the engineer it is reserved for, or left empty)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 17:15:00
"""

from collections.abc import Sequence

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
