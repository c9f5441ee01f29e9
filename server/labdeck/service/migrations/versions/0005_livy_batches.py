"""Livy batches: the integer id of each batch, for the training job that runs it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-18
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "livy_batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cluster_id", sa.String(32), nullable=False, index=True),
        sa.Column(
            "job_id",
            sa.String(32),
            sa.ForeignKey("resources.id", ondelete="CASCADE"),
            nullable=True,
            unique=True,
        ),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("app_id", sa.String(128), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("livy_batches")
