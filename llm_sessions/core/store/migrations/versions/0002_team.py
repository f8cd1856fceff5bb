"""Team-ready keys: (host, os_user) in every key, 64-bit counts, no transcript text, hosts and limits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Rows written before this revision carry no host: they are given the identity of the machine
that runs the migration (for the default SQLite store that is exactly where they came from).
The old `title` and `transcript` columns are dropped: a title is transcript text, and the
store holds only what may be shared. Migrated sessions are marked not present until their
host publishes again. Duplicate samples (two dashboards wrote the same instant) collapse
into one, since (host, os_user, session_id, at) is now the key.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _who():
    return [sa.Column("host", sa.String(), primary_key=True), sa.Column("os_user", sa.String(), primary_key=True)]


def upgrade() -> None:
    ident = op.get_context().config.attributes["identity"]
    who = {"h": ident.host, "u": ident.os_user}
    for name, table in (("ix_sessions_last_activity", "sessions"), ("ix_samples_session_at", "samples"), ("ix_exports_session_id", "exports")):
        op.drop_index(name, table_name=table)
    for table in ("sessions", "samples", "exports"):
        op.rename_table(table, f"{table}_v1")

    op.create_table(
        "hosts",
        *_who(),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_seconds", sa.Float(), nullable=False),
        sa.Column("version", sa.String()),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("maintained_at", sa.DateTime()),
    )
    op.create_table(
        "sessions",
        *_who(),
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("tool", sa.String(), nullable=False),
        sa.Column("cwd", sa.Text()),
        sa.Column("model", sa.String()),
        sa.Column("git_branch", sa.String()),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("last_activity", sa.DateTime()),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_creation_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("tokens_exact", sa.Boolean(), nullable=False),
        sa.Column("context_used", sa.BigInteger()),
        sa.Column("context_window", sa.BigInteger()),
        sa.Column("compact_at", sa.BigInteger()),
        sa.Column("cost_usd", sa.Float()),
        sa.Column("health_score", sa.Integer()),
        sa.Column("status", sa.String()),
        sa.Column("health", sa.Text()),
        sa.Column("api_errors", sa.Integer(), nullable=False),
        sa.Column("tool_errors", sa.Integer(), nullable=False),
        sa.Column("compactions", sa.Integer(), nullable=False),
        sa.Column("limit_resets_at", sa.DateTime()),
        sa.Column("pid", sa.Integer()),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_sessions_last_activity", "sessions", ["last_activity"])
    op.create_index("ix_sessions_present", "sessions", ["host", "os_user", "present"])
    op.create_table(
        "samples",
        *_who(),
        sa.Column("session_id", sa.String(), primary_key=True),
        sa.Column("at", sa.DateTime(), primary_key=True),
        sa.Column("context_used", sa.BigInteger()),
        sa.Column("tokens_total", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float()),
    )
    op.create_index("ix_samples_at", "samples", ["at"])
    op.create_table(
        "exports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("os_user", sa.String(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("redactions", sa.Integer(), nullable=False),
        sa.Column("tokens_estimate", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_exports_session_id", "exports", ["session_id"])
    op.create_table(
        "limits",
        *_who(),
        sa.Column("tool", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("used_percent", sa.Float()),
        sa.Column("resets_at", sa.DateTime()),
        sa.Column("window_minutes", sa.Integer()),
        sa.Column("source", sa.String()),
        sa.Column("exact", sa.Boolean(), nullable=False),
        sa.Column("burn_per_hour", sa.Float()),
        sa.Column("eta", sa.DateTime()),
        sa.Column("limit_hit", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )

    h, u = "CAST(:h AS VARCHAR)", "CAST(:u AS VARCHAR)"
    op.execute(sa.text(
        "INSERT INTO sessions (host, os_user, id, tool, cwd, model, git_branch, started_at, last_activity, turns,"
        " input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, tokens_exact, context_used,"
        " context_window, cost_usd, health_score, status, api_errors, tool_errors, compactions, state, present, updated_at)"
        f" SELECT {h}, {u}, id, tool, cwd, model, git_branch, started_at, last_activity, 0,"
        " input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, tokens_exact, context_used,"
        " context_window, cost_usd, health_score, status, 0, 0, 0, state, :no, updated_at FROM sessions_v1"
    ).bindparams(no=False, **who))
    op.execute(sa.text(
        "INSERT INTO samples (host, os_user, session_id, at, context_used, tokens_total, cost_usd)"
        f" SELECT {h}, {u}, session_id, at, max(context_used), max(tokens_total), max(cost_usd)"
        " FROM samples_v1 GROUP BY session_id, at"
    ).bindparams(**who))
    op.execute(sa.text(
        "INSERT INTO exports (id, host, os_user, session_id, path, format, created_at, redactions, tokens_estimate)"
        f" SELECT id, {h}, {u}, session_id, path, format, created_at, redactions, tokens_estimate FROM exports_v1"
    ).bindparams(**who))
    if op.get_bind().dialect.name == "postgresql":
        # explicit ids were copied: move the sequence past them
        op.execute("SELECT setval(pg_get_serial_sequence('exports', 'id'), coalesce((SELECT max(id) FROM exports), 0) + 1, false)")
    for table in ("sessions", "samples", "exports"):
        op.drop_table(f"{table}_v1")


def downgrade() -> None:
    raise NotImplementedError("llm-session migrations go forward only")
