"""a CRC-32 per metric chunk

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 05:30:00

Chunks written before this revision keep a NULL checksum and are read unchecked; every chunk
written from now on (including an old series' open chunk when it grows) carries one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column needs no table copy: batch mode issues a plain ALTER TABLE ADD COLUMN.
    with op.batch_alter_table("metric_chunks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checksum", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("metric_chunks", schema=None) as batch_op:
        batch_op.drop_column("checksum")
