"""Tables of a store, in SQLAlchemy 2.0 typed style.

Metric points are stored in columnar chunks (``metric_chunks``): one row per (run, key, chunk)
holding packed little-endian numpy arrays, so a 1M-point series is a handful of blobs rather than
a million rows. ``metric_summaries`` is kept in the same transaction and feeds the runs table and
filters. Every row that a write touches is stamped with ``seq``, a store-wide, strictly
increasing transaction number; readers ask "what has seq > my cursor".
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints let Alembic's batch mode find and drop them on SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The Alembic head revision this code writes. A test checks it equals the migrations' head.
SCHEMA_REVISION = "0003"

RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED", "CRASHED")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SqlMeta(Base):
    """Store-wide counters: ``seq`` (the change cursor) and ``epoch`` (bumped by gc)."""

    __tablename__ = "store_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SqlExperiment(Base):
    __tablename__ = "experiments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(250), unique=True)
    created_time: Mapped[int] = mapped_column(BigInteger)


class SqlRun(Base):
    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUSES!r}", name="status"),
        Index("ix_runs_seq", "seq"),
        Index("ix_runs_experiment_start", "experiment_id", "start_time"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    name: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    heartbeat_time: Mapped[int | None] = mapped_column(BigInteger)
    host: Mapped[str] = mapped_column(String(250), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    user: Mapped[str] = mapped_column(String(250), default="")
    parent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    environment: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    deleted_time: Mapped[int | None] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


class SqlParam(Base):
    __tablename__ = "params"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(6000))


class SqlTag(Base):
    __tablename__ = "tags"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(String(5000))


class SqlMetricChunk(Base):
    __tablename__ = "metric_chunks"
    # (run, key, seq): a live reader asks for one series' chunks changed after its cursor. By
    # the primary key alone SQLite reads every chunk of the series to test seq, which sits
    # after the blobs (3 ms a tick for a 1M-point series); by this index, only the new ones.
    __table_args__ = (Index("ix_metric_chunks_seq", "seq"),
                      Index("ix_metric_chunks_series_seq", "run_id", "key", "seq"))
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    step_min: Mapped[int] = mapped_column(BigInteger)
    step_max: Mapped[int] = mapped_column(BigInteger)
    steps: Mapped[bytes] = mapped_column(LargeBinary)  # int64 LE
    values: Mapped[bytes] = mapped_column(LargeBinary)  # float64 LE
    timestamps: Mapped[bytes] = mapped_column(LargeBinary)  # int64 LE, ms
    seq: Mapped[int] = mapped_column(BigInteger)
    # CRC-32 of steps + values + timestamps (series.checksum), checked on every read and by
    # ``runwatch doctor``. NULL for chunks written before schema 0002: those are not checked.
    checksum: Mapped[int | None] = mapped_column(BigInteger)


class SqlMetricSummary(Base):
    __tablename__ = "metric_summaries"
    __table_args__ = (Index("ix_metric_summaries_key", "key", "last"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    # SQLite cannot store NaN (it becomes NULL): NULL here means NaN, ``last_is_nan`` says so.
    last: Mapped[float | None] = mapped_column(Float)
    last_is_nan: Mapped[int] = mapped_column(Integer, default=0)
    last_step: Mapped[int] = mapped_column(BigInteger)
    last_time: Mapped[int] = mapped_column(BigInteger)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    count: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


# --- the model registry (MLflow's concepts: registered models, versions, stages, aliases) ------

class SqlRegisteredModel(Base):
    __tablename__ = "registered_models"
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int | None] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


class SqlModelVersion(Base):
    __tablename__ = "model_versions"
    model: Mapped[str] = mapped_column(ForeignKey("registered_models.name", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), default="None")
    status: Mapped[str] = mapped_column(String(20), default="READY")
    # No foreign key: a version outlives its run (MLflow keeps it when the run is deleted).
    run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[str] = mapped_column(String(250), default="")
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int | None] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


class SqlModelTag(Base):
    __tablename__ = "registered_model_tags"
    model: Mapped[str] = mapped_column(ForeignKey("registered_models.name", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SqlModelVersionTag(Base):
    __tablename__ = "model_version_tags"
    __table_args__ = (ForeignKeyConstraint(["model", "version"], ["model_versions.model", "model_versions.version"],
                                           ondelete="CASCADE"),)
    model: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SqlModelAlias(Base):
    """``champion`` -> version 3: one row per alias, moved by an UPDATE (atomic)."""

    __tablename__ = "registered_model_aliases"
    model: Mapped[str] = mapped_column(ForeignKey("registered_models.name", ondelete="CASCADE"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
