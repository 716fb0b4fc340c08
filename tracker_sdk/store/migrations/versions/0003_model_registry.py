"""the model registry: registered models, versions, tags and aliases; a (run, key, seq) index
on metric chunks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 06:00:00

MLflow's registry concepts, so an imported MLflow registry (and MLflow's API later) maps 1:1.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_chunks", schema=None) as batch_op:
        batch_op.create_index("ix_metric_chunks_series_seq", ["run_id", "key", "seq"], unique=False)
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_registered_models")),
    )
    op.create_table(
        "model_versions",
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("user", sa.String(length=250), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["model"], ["registered_models.name"],
                                name=op.f("fk_model_versions_model_registered_models"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model", "version", name=op.f("pk_model_versions")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_run_id"), ["run_id"], unique=False)
    op.create_table(
        "registered_model_aliases",
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("alias", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model"], ["registered_models.name"],
                                name=op.f("fk_registered_model_aliases_model_registered_models"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model", "alias", name=op.f("pk_registered_model_aliases")),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["model"], ["registered_models.name"],
                                name=op.f("fk_registered_model_tags_model_registered_models"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model", "key", name=op.f("pk_registered_model_tags")),
    )
    op.create_table(
        "model_version_tags",
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["model", "version"], ["model_versions.model", "model_versions.version"],
                                name=op.f("fk_model_version_tags_model_model_versions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model", "version", "key", name=op.f("pk_model_version_tags")),
    )


def downgrade() -> None:
    with op.batch_alter_table("metric_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_chunks_series_seq")
    for table in ("model_version_tags", "registered_model_tags", "registered_model_aliases", "model_versions",
                  "registered_models"):
        op.drop_table(table)
