"""One ledger for every kind, one resources table for every kind of resource

The `sessions` table becomes `ledger` (kind required, resource_id names which session or
resource); `clusters` rows move into `resources` (kind 'cluster', ports and processes in
backend_state); Livy sessions keep their driver's process record instead of a bare pid.
A cluster entry the old code closed while its cluster still ran is opened again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LEDGER_COLUMNS = (
    "id",
    "kind",
    "user",
    "resource_id",
    "profile",
    "gpus",
    "cores",
    "started",
    "deadline",
    "deadline_reason",
    "stop_reason",
    "ended",
    "end_reason",
    "last_seen",
)


def _ledger_table() -> sa.Table:
    return op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False, index=True),
        sa.Column("user", sa.String(255), nullable=False, index=True),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("gpus", sa.JSON, nullable=False),
        sa.Column("cores", sa.Integer, nullable=True),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_reason", sa.String(32), nullable=True),
        sa.Column("stop_reason", sa.String(32), nullable=True),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )


def _resources_table() -> sa.Table:
    return op.create_table(
        "resources",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False, index=True),
        sa.Column("user", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("state_reason", sa.String(512), nullable=True),
        sa.Column("progress", sa.JSON, nullable=False),
        sa.Column("backend_state", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ledger_id", sa.Integer, nullable=True),
    )


def upgrade() -> None:
    bind = op.get_bind()
    ledger = _ledger_table()
    old = sa.Table("sessions", sa.MetaData(), autoload_with=bind)
    running = {
        row.ledger_id
        for row in bind.execute(sa.text("SELECT ledger_id FROM clusters WHERE state = 'RUNNING'"))
        if row.ledger_id is not None
    }
    rows = []
    for row in bind.execute(sa.select(old)):
        entry = {column: getattr(row, column) for column in LEDGER_COLUMNS}
        entry["kind"] = entry["kind"] or "session"
        entry["resource_id"] = entry["resource_id"] or ""
        entry["gpus"] = entry["gpus"] or []
        if entry["id"] in running:
            entry["ended"] = entry["end_reason"] = None
        rows.append(entry)
    if rows:
        op.bulk_insert(ledger, rows)
    op.drop_table("sessions")

    resources = _resources_table()
    clusters = sa.Table("clusters", sa.MetaData(), autoload_with=bind)
    moved = [
        {
            "id": row.id,
            "kind": "cluster",
            "user": row.user,
            "name": row.name,
            "spec": row.spec,
            "state": row.state,
            "state_reason": row.state_reason,
            "progress": row.progress or {},
            "backend_state": {
                "master_port": row.master_port,
                "webui_port": row.webui_port,
                "processes": [{"pid": pid, "start_time": None} for pid in row.pids or []],
            },
            "created": row.created,
            "started": row.started,
            "ended": row.ended,
            "last_activity": row.last_activity,
            "ledger_id": row.ledger_id,
        }
        for row in bind.execute(sa.select(clusters))
    ]
    if moved:
        op.bulk_insert(resources, moved)
    op.drop_table("clusters")

    with op.batch_alter_table("livy_sessions") as batch:
        batch.add_column(sa.Column("process", sa.JSON, nullable=True))
    bind.execute(
        sa.text(
            "UPDATE livy_sessions SET process = "
            "json_object('pid', pid, 'start_time', NULL) WHERE pid IS NOT NULL"
            if bind.dialect.name == "sqlite"
            else "UPDATE livy_sessions SET process = "
            "json_build_object('pid', pid, 'start_time', NULL) WHERE pid IS NOT NULL"
        )
    )
    with op.batch_alter_table("livy_sessions") as batch:
        batch.drop_column("pid")


def downgrade() -> None:
    raise NotImplementedError("labdeck's service database is not downgraded past 0004")
