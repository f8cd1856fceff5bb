"""The schema as the first release created it (SQLModel's create_all, no version table).

Revision ID: 0001
Revises:
Create Date: 2026-11-29

A store written by that release has these tables and no `alembic_version`; `migrate.py`
stamps it as 0001 and upgrades from there, so its history is kept.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("tool", sa.String(), nullable=False),
        sa.Column("cwd", sa.String()),
        sa.Column("transcript", sa.String()),
        sa.Column("model", sa.String()),
        sa.Column("git_branch", sa.String()),
        sa.Column("title", sa.String()),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("last_activity", sa.DateTime()),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_creation_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("tokens_exact", sa.Boolean(), nullable=False),
        sa.Column("context_used", sa.Integer()),
        sa.Column("context_window", sa.Integer()),
        sa.Column("cost_usd", sa.Float()),
        sa.Column("health_score", sa.Integer()),
        sa.Column("status", sa.String()),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sessions_last_activity", "sessions", ["last_activity"])
    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("context_used", sa.Integer()),
        sa.Column("tokens_total", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float()),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_samples_session_at", "samples", ["session_id", "at"])
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("redactions", sa.Integer(), nullable=False),
        sa.Column("tokens_estimate", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exports_session_id", "exports", ["session_id"])
    op.create_table(
        "kv",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    raise NotImplementedError("llm-session migrations go forward only")
