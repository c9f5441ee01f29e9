"""usage ledger, quota overrides, service state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="session"),
        sa.Column("user", sa.String(255), nullable=False, index=True),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("gpus", sa.JSON, nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_reason", sa.String(32), nullable=True),
        sa.Column("stop_reason", sa.String(32), nullable=True),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "quota_overrides",
        sa.Column("user", sa.String(255), primary_key=True),
        sa.Column("quota", sa.JSON, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "service_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_state")
    op.drop_table("quota_overrides")
    op.drop_table("sessions")
