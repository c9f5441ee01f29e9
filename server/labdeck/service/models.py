"""Database tables of the service. Every change comes with an Alembic migration."""

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on every database (SQLite drops the time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class User(Base):
    """A hub user or service the control plane has seen."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="user")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(Base):
    """One entry of the usage ledger: a lab session, a cluster, a job or a deployment ran.

    Only `service.ledger` writes these rows.
    """

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # session | cluster | job | deployment
    kind: Mapped[str] = mapped_column(String(16), index=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    # Which one: a lab session's server name ("" for the default server), a resource's id.
    resource_id: Mapped[str] = mapped_column(String(64), default="")
    profile: Mapped[str] = mapped_column(String(64))
    gpus: Mapped[list] = mapped_column(JSON, default=list)
    cores: Mapped[int | None] = mapped_column(nullable=True)
    started: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deadline_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Set by whoever asks for the stop (the enforcer, an admin) before it is stopped.
    stop_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Last time the service saw it running: its end if the service vanished meanwhile.
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class QuotaOverride(Base):
    """Per-user quota fields set by an admin; they win over group and default quotas."""

    __tablename__ = "quota_overrides"

    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    quota: Mapped[dict] = mapped_column(JSON, default=dict)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(255))


class ServiceState(Base):
    """Small facts the service keeps across restarts (e.g. when it last stopped cleanly)."""

    __tablename__ = "service_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


# A resource's states: STARTING -> RUNNING -> TERMINATING -> TERMINATED, or FAILED.
STARTING, RUNNING, TERMINATING = "STARTING", "RUNNING", "TERMINATING"
TERMINATED, FAILED = "TERMINATED", "FAILED"
LIVE_STATES = (STARTING, RUNNING, TERMINATING)
STATES = (*LIVE_STATES, TERMINATED, FAILED)


class Resource(Base):
    """A user's resource that runs processes: a Spark cluster, a training job, a deployment.

    The manager of its kind owns `state`, `progress` and `ledger_id`; its backend owns
    `backend_state` (ports, processes: what it needs to find them after a restart).
    """

    __tablename__ = "resources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)
    state_reason: Mapped[str | None] = mapped_column(String(512), nullable=True)
    progress: Mapped[dict] = mapped_column(JSON, default=dict)
    backend_state: Mapped[dict] = mapped_column(JSON, default=dict)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_activity: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ledger_id: Mapped[int | None] = mapped_column(nullable=True)


class LivySession(Base):
    """A Livy-style interactive session: one Spark driver process on a cluster."""

    __tablename__ = "livy_sessions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    cluster_id: Mapped[str] = mapped_column(String(32), index=True)
    user: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # The driver's process record (supervisor), to find it again after a restart.
    process: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    port: Mapped[int | None] = mapped_column(nullable=True)
    token: Mapped[str | None] = mapped_column(String(128), nullable=True)
    app_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_heartbeat: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_timeout: Mapped[int] = mapped_column(default=0)


class LivyBatch(Base):
    """A Livy batch: the integer id Livy's clients know, for a training job whose command
    is spark-submit (the job row holds its state; its removal takes the batch with it)."""

    __tablename__ = "livy_batches"
    # ids are never handed out again, even after the newest batch is removed
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    cluster_id: Mapped[str] = mapped_column(String(32), index=True)
    # None only while its job is being created
    job_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("resources.id", ondelete="CASCADE"), unique=True, nullable=True
    )
    # the name the request gave (Livy shows null without one)
    name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the Spark application's id once its log says it; "" once it ended without one
    app_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimeGrant(Base):
    """Extra time on a runtime profile for one budget day: an admin's one-off grant
    ("two more hours today"), recorded with who granted it and why."""

    __tablename__ = "time_grants"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(255), index=True)
    profile: Mapped[str] = mapped_column(String(64))
    seconds: Mapped[int] = mapped_column()
    # the budget day it adds to, as a calendar date in the quota policy's time zone
    day: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Course(Base):
    """A course: a hub group of the same name plus a shared folder, with its roles."""

    __tablename__ = "courses"

    group: Mapped[str] = mapped_column(String(255), primary_key=True)
    instructors: Mapped[list] = mapped_column(JSON, default=list)
    students: Mapped[list] = mapped_column(JSON, default=list)
    # a git repository instructors hand out with nbgitpuller links, if any
    repository: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    branch: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(255), default="")
