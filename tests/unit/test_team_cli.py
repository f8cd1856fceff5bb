"""The team view through the real CLI: agents publishing, `team`, `--db`, and the failure lines.

Every command runs as users run it: a subprocess of `python -m llm_sessions` over a
generated home. The PostgreSQL server comes from tests/pg_fixture.py.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from llm_sessions.synth.corpus import build_corpus

ROOT = str(Path(__file__).resolve().parents[2])


def run(args, env, check=False, timeout=120):
    proc = subprocess.run([sys.executable, "-m", "llm_sessions", *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def machine(base: Path, host: str, seed: int) -> tuple[dict, dict]:
    """A home of its own with a generated corpus, named `host` (truth, env)."""
    root = base / host
    build_corpus(root / "corpus", seed=seed)
    truth = json.loads((root / "corpus" / "truth.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SESSION_", "CLAUDE_", "CODEX_"))}
    env.update(HOME=str(root), LLM_SESSION_HOME=str(root / ".llm-session"), LLM_SESSION_GENERAL_HOST_NAME=host, USER="dev", LOGNAME="dev")
    for k, v in truth["env"].items():
        env[k] = ",".join(str(root / "corpus" / p) for p in v.split(","))
    env.update(truth["settings_env"])  # the corpus's Aider folders
    return truth, env


def test_two_machines_publish_concurrently_and_team_lists_both(db_url, tmp_path):
    machines = {"alpha": machine(tmp_path, "alpha", 21), "beta": machine(tmp_path, "beta", 22)}
    for _round in range(3):
        procs = {
            host: subprocess.Popen(
                [sys.executable, "-m", "llm_sessions", "--db", db_url, "agent", "--once", "--no-processes", "--json"],
                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for host, (_truth, env) in machines.items()
        }
        for host, p in procs.items():
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0 and err == "", (host, err)
            got = json.loads(out)
            assert (got["ok"], got["host"], got["os_user"]) == (True, host, "dev")
            assert got["sessions"] == len(machines[host][0]["sessions"])
    _truth, env = machines["alpha"]
    team = json.loads(run(["team", "--all", "--json", "--db", db_url], env, check=True).stdout)
    assert sorted((h["host"], h["os_user"], h["stale"]) for h in team["hosts"]) == [("alpha", "dev", False), ("beta", "dev", False)]
    for host, (truth, host_env) in machines.items():
        mine = {s["id"]: s for s in team["sessions"] if s["host"] == host}
        assert set(mine) == set(truth["sessions"]), host  # nothing lost, nothing mixed
        # what the machine itself shows from the same files (published without a process scan too)
        local = {s["id"]: s for s in json.loads(run(["list", "--all", "--no-processes", "--json"], host_env, check=True).stdout)["sessions"]}
        for sid, here in local.items():  # the numbers the machine itself shows, exactly
            there = mine[sid]
            assert there["tokens"] == here["tokens"]
            assert there["cost_usd"] == (None if here["cost_usd"] is None else pytest.approx(here["cost_usd"]))
            assert (there["context"] or {}).get("used") == (here["context"] or {}).get("used")
            assert (there["tool"], there["model"], there["cwd"]) == (here["tool"], here["model"], here["cwd"])
            assert there["os_user"] == "dev" and there["title"] is None and there["transcript"] is None
    # running sessions only, by default: the corpora's sessions are all ended
    assert json.loads(run(["team", "--json", "--db", db_url], env, check=True).stdout)["sessions"] == []
    human = run(["team", "--all", "--db", db_url], env, check=True).stdout
    assert "alpha" in human and "beta" in human and "stale" not in human


def test_stale_hosts_are_marked(tmp_path):
    from llm_sessions.core.models import Session, Snapshot
    from llm_sessions.core.store import Identity, Store

    url = f"sqlite:///{tmp_path / 'team.db'}"
    now = datetime.now(timezone.utc)
    for host, at in (("fresh", now), ("gone", now - timedelta(minutes=10))):
        with Store.open(url, tmp_path, identity=Identity(host, "dev")) as store:
            store.record_snapshot(Snapshot(at, (Session(id=f"{host}-1", tool="claude", state="working"),)))
    env = dict(os.environ)
    out = json.loads(run(["--db", url, "team", "--json"], env, check=True).stdout)
    assert {h["host"]: h["stale"] for h in out["hosts"]} == {"fresh": False, "gone": True}
    states = {s["id"]: (s["state"], s["stale"]) for s in out["sessions"]}
    assert states == {"fresh-1": ("working", False), "gone-1": ("unknown", True)}  # nobody knows if it still runs
    assert out["limits"] == []  # no assistant reported a usage-limit window
    human = run(["team", "--db", url], env, check=True).stdout
    gone_line = next(line for line in human.splitlines() if line.startswith("gone "))
    assert gone_line.rstrip().endswith("stale")


def test_db_is_global_before_or_after_the_command(tmp_path):
    env = dict(os.environ)
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    run(["--db", f"sqlite:///{first}", "history", "--json"], env, check=True)
    run(["history", "--json", "--db", f"sqlite:///{second}"], env, check=True)
    run(["history", f"--db=sqlite:///{tmp_path / 'c.db'}"], env, check=True)
    assert first.exists() and second.exists() and (tmp_path / "c.db").exists()
    data = Path(env["LLM_SESSION_HOME"]) / "data" / "llm-session.db"
    assert not data.exists()  # the default store was never touched


def test_unreachable_server_is_one_line_and_exit_3(tmp_path):
    from tests.pg_server import free_port

    pytest.importorskip("psycopg")
    env = dict(os.environ, LLM_SESSION_STORE_CONNECT_TIMEOUT_SECONDS="2")
    url = f"postgres://dev@127.0.0.1:{free_port()}/team"
    for args in (["team"], ["history", "--json"], ["agent", "--once"]):
        t = time.monotonic()
        res = run(["--db", url, *args], env)
        assert res.returncode == 3, (args, res.stderr)
        if "--json" in args:  # the error itself is JSON on stdout (issue 10), stderr stays quiet
            out = json.loads(res.stdout)
            assert out["ok"] is False and out["exit_code"] == 3 and "cannot reach" in out["error"] and res.stderr == ""
        else:
            assert res.stderr.count("\n") == 1 and "cannot reach" in res.stderr and "Traceback" not in res.stderr
        assert time.monotonic() - t < 20


def test_missing_driver_names_the_extra(tmp_path):
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "sys.argv = ['llm-session', 'team', '--db', 'postgresql://dev@127.0.0.1/team']\n"
        "from llm_sessions.cli import main\n"
        "main()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    assert res.returncode == 3
    assert res.stderr.count("\n") == 1 and "pip install 'llm-session[postgres]'" in res.stderr


def test_postgres_scheme_through_the_cli(pg_url, tmp_path):
    _truth, env = machine(tmp_path, "gamma", 23)
    url = pg_url.replace("postgresql+psycopg://", "postgres://")
    run(["agent", "--once", "--no-processes", "--db", url], env, check=True)
    out = json.loads(run(["team", "--all", "--json", "--db", url], env, check=True).stdout)
    assert [h["host"] for h in out["hosts"]] == ["gamma"] and out["store"].startswith("postgresql+psycopg://postgres@127.0.0.1:")


def test_agent_runs_until_sigterm_and_keeps_going_while_the_store_is_down(tmp_path):
    from tests.pg_server import free_port

    _truth, env = machine(tmp_path, "delta", 24)
    db = tmp_path / "agent.db"
    good = subprocess.Popen([sys.executable, "-m", "llm_sessions", "agent", "--interval", "0.3", "--no-processes", "--db", f"sqlite:///{db}"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if db.exists():
                try:
                    if sqlite3.connect(db).execute("SELECT count(*) FROM hosts").fetchone()[0]:
                        break
                except sqlite3.Error:
                    pass
            time.sleep(0.2)
        time.sleep(1)
    finally:
        good.send_signal(signal.SIGTERM)
        _out, err = good.communicate(timeout=30)
    assert good.returncode == 0, err
    assert "publishing dev@delta" in err and "stopped after" in err
    assert int(err.split("stopped after ")[1].split()[0]) >= 2

    pytest.importorskip("psycopg")
    env["LLM_SESSION_STORE_CONNECT_TIMEOUT_SECONDS"] = "2"
    down = subprocess.Popen([sys.executable, "-m", "llm_sessions", "agent", "--interval", "0.5", "--no-processes",
                             "--db", f"postgresql://dev@127.0.0.1:{free_port()}/x"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    assert down.poll() is None  # still running, retrying
    down.send_signal(signal.SIGTERM)
    _out, err = down.communicate(timeout=30)
    assert down.returncode == 0
    assert err.count("retrying") == 1  # said once, not once per attempt


def test_export_prints_its_json_while_the_store_is_locked(tmp_path):
    truth, env = machine(tmp_path, "eps", 25)
    run(["history", "--json"], env, check=True)  # creates the store
    db = Path(env["LLM_SESSION_HOME"]) / "data" / "llm-session.db"
    sid = next(s for s, t in sorted(truth["sessions"].items()) if t["tool"] == "claude")
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        res = run(["export", sid[:12], "--format", "json", "-o", f"{tmp_path / 'out'}/", "--json"], env)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert res.returncode == 0, res.stderr
    written = json.loads(res.stdout)
    assert written["session"] == sid and Path(written["paths"][0]).exists()
    assert "not recorded in history" in res.stderr and "Traceback" not in res.stderr


def test_hoisting_keeps_values_and_stops_at_double_dash():
    from llm_sessions.cli import _command_name, hoist_global_options

    assert hoist_global_options(["history", "x", "--db", "U", "--json"]) == ["--db", "U", "history", "x", "--json"]
    assert hoist_global_options(["export", "id", "--db=U"]) == ["--db=U", "export", "id"]
    assert hoist_global_options(["import", "--", "--db", "file"]) == ["import", "--", "--db", "file"]
    assert _command_name(["--db", "U", "export", "id"]) == "export"
    assert _command_name(["--db=U", "--team"]) is None


def test_the_dashboard_starts_while_the_server_is_down(tmp_path):
    from llm_sessions import cli
    from llm_sessions.config import load_settings
    from llm_sessions.dashboard import open_for_dashboard
    from llm_sessions.paths import app_paths
    from tests.pg_server import free_port

    pytest.importorskip("psycopg")
    env = {"LLM_SESSION_HOME": str(tmp_path), "LLM_SESSION_STORE_CONNECT_TIMEOUT_SECONDS": "2"}
    paths = app_paths(env)
    settings = load_settings(paths.config_file, env)
    store, warnings = open_for_dashboard(cli.open_store, paths, settings, f"postgresql://dev@127.0.0.1:{free_port()}/x")
    try:
        assert len(warnings) == 1 and "keeps running and retries" in warnings[0]
    finally:
        store.close()


def test_export_records_into_the_store_named_by_db(tmp_path):
    from llm_sessions.core.store import Store

    truth, env = machine(tmp_path, "zeta", 26)
    sid = next(s for s, t in sorted(truth["sessions"].items()) if t["tool"] == "claude")
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    res = run(["export", sid[:12], "--format", "md", "-o", f"{tmp_path / 'out'}/", "--json", "--db", url], env, check=True)
    written = json.loads(res.stdout)["paths"]
    from llm_sessions.core.store import Identity

    with Store.open(url, tmp_path, identity=Identity("zeta", "dev")) as store:
        assert [e["path"] for e in store.exports()] == written
