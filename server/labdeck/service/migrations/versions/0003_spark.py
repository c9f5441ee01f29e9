"""Spark clusters, Livy sessions, cluster entries in the ledger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("resource_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("cores", sa.Integer, nullable=True))
    op.create_table(
        "clusters",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("state_reason", sa.String(512), nullable=True),
        sa.Column("progress", sa.JSON, nullable=False),
        sa.Column("master_port", sa.Integer, nullable=True),
        sa.Column("webui_port", sa.Integer, nullable=True),
        sa.Column("pids", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ledger_id", sa.Integer, nullable=True),
    )
    op.create_table(
        "livy_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cluster_id", sa.String(32), nullable=False, index=True),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(512), nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("token", sa.String(128), nullable=True),
        sa.Column("app_id", sa.String(128), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_timeout", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("livy_sessions")
    op.drop_table("clusters")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("cores")
        batch.drop_column("resource_id")
