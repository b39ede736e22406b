"""merge the foundation's branches (incidents, visits/audits, plans, access log) into one head

The four features were built in parallel, each on top of 0001; from here on there is one line.

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
Create Date: 2026-11-22 07:10:00
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0002", "0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
