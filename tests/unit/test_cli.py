"""The CLI as users run it: a real subprocess over a generated home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_sessions.synth.corpus import build_corpus


def run(args, env, check=False):
    proc = subprocess.run([sys.executable, "-m", "llm_sessions", *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def corpus(tmp_path, fake_home):
    root = tmp_path / "c"
    build_corpus(root, seed=11)
    truth = json.loads((root / "truth.json").read_text())
    env = dict(os.environ)
    for k, v in truth["env"].items():
        env[k] = ",".join(str(root / p) for p in v.split(","))
    env.update(truth["settings_env"])  # the corpus's Aider folders
    return truth, env


def test_list_all_json_has_the_documented_fields(corpus):
    truth, env = corpus
    # --no-processes: this machine's own processes must not add rows to the comparison
    answer = json.loads(run(["list", "--all", "--no-processes", "--json"], env, check=True).stdout)
    assert answer["ok"] is True and isinstance(answer["problems"], list)
    out = answer["sessions"]
    assert {o["id"] for o in out} == set(truth["sessions"])
    for o in out:
        t = truth["sessions"][o["id"]]
        assert o["tool"] == t["tool"] and o["pid"] is None
        assert o["state"] == "unknown" and o["running"] is None and "not scanned" in o["state_note"]
        for key in ("cwd", "transcript", "model", "started_at", "last_activity", "cost_usd"):
            assert key in o
        tok = o["tokens"]
        assert tok["total"] == tok["input"] + tok["output"] + tok["cache_creation"] + tok["cache_read"]
        assert tok["exact"] is t["exact"]
        if t["exact"] or t["tool"] == "aider":  # Aider's rounded figures are its own, equal but not exact
            assert {k: tok[k] for k in t["tokens"]} == t["tokens"]
        assert o["cost_usd"] == pytest.approx(t["cost"], abs=2e-6)
        if t["context"] is not None:
            assert o["context"]["used"] == t["context"]["used"]
            assert o["context"]["percent"] == round(100 * t["context"]["used"] / t["context"]["window"], 1)
        assert set(o["health"]) >= {"score", "status", "tokens", "duration", "activity", "errors"}
        assert o["health"]["status"] in {"healthy", "warning", "critical"}
        assert o["started_at"].endswith("Z")


def test_second_run_reads_only_new_bytes_and_agrees(corpus):
    _, env = corpus
    first = run(["list", "--all", "--no-processes", "--json"], env, check=True).stdout
    second = run(["list", "--all", "--no-processes", "--json"], env, check=True).stdout
    strip = lambda s: [{k: v for k, v in o.items() if k != "health"} for o in json.loads(s)["sessions"]]  # noqa: E731
    assert strip(first) == strip(second)


def test_health_by_prefix_and_errors_for_bad_ids(corpus):
    truth, env = corpus
    sid = sorted(truth["sessions"])[0]
    out = json.loads(run(["health", sid[:10], "--json"], env, check=True).stdout)
    assert out["id"] == sid
    for comp in ("tokens", "duration", "activity", "errors"):
        assert 0 <= out["health"][comp]["score"] <= 100 and out["health"][comp]["reason"]
    human = run(["health", sid[:10]], env, check=True).stdout
    assert "tokens" in human and "weight" in human
    unknown = run(["health", "zzzz-no-such"], env)
    assert unknown.returncode == 2 and "no session id starts with" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    ambiguous = run(["health", ""], env)
    assert ambiguous.returncode == 2


def test_ambiguous_prefix_is_a_clear_error(fake_home):
    from tests.unit.claude_lines import assistant, write

    proj = fake_home / ".claude" / "projects" / "-w"
    write(proj / "abc1.jsonl", [assistant("m1", "r1", "2026-11-20T10:00:00.000Z", sid="abc1")])
    write(proj / "abc2.jsonl", [assistant("m2", "r2", "2026-11-20T10:00:00.000Z", sid="abc2")])
    res = run(["health", "abc"], dict(os.environ))
    assert res.returncode == 2 and "ambiguous" in res.stderr and "abc1" in res.stderr and "abc2" in res.stderr
    assert json.loads(run(["health", "abc2", "--json"], dict(os.environ), check=True).stdout)["id"] == "abc2"


def test_broken_config_is_one_line_with_position(fake_home):
    env = dict(os.environ)
    cfg = fake_home / ".llm-session" / "config" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("[general]\nrefresh_seconds = = 3\n")
    res = run(["list", "--all"], env)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and str(cfg) in res.stderr and "line 2" in res.stderr
    assert cfg.read_text() == "[general]\nrefresh_seconds = = 3\n"  # never touched


def test_config_init_show_and_env_override(fake_home):
    env = dict(os.environ, LLM_SESSION_GENERAL_REFRESH_SECONDS="5")
    res = run(["config", "init"], env, check=True)
    assert "wrote" in res.stdout
    again = run(["config", "init"], env)
    assert again.returncode == 1 and "--force" in again.stderr
    shown = json.loads(run(["config", "show", "--json"], env, check=True).stdout)
    rows = {r["key"]: r for r in shown["settings"]}
    assert rows["general.refresh_seconds"]["value"] == 5.0
    assert rows["general.refresh_seconds"]["source"].startswith("env")
    assert rows["health.weight_tokens"]["source"].startswith("file")
    bad = run(["config", "show"], dict(env, LLM_SESSION_HEALTH_HEALTHY_MIN="lots"))
    assert bad.returncode == 2 and "health.healthy_min" in bad.stderr


def test_empty_machine_says_where_it_looked(fake_home):
    res = run(["list", "--all", "--no-processes"], dict(os.environ), check=True)
    assert "No session found" in res.stdout and ".claude" in res.stdout
    listed = run(["list", "--all", "--no-processes", "--json"], dict(os.environ), check=True).stdout
    assert json.loads(listed) == {"ok": True, "sessions": [], "problems": []}


def test_corrupt_scan_cache_is_ignored(corpus, fake_home):
    truth, env = corpus
    run(["list", "--all", "--no-processes", "--json"], env, check=True)
    for f in (fake_home / ".llm-session" / "cache").glob("scan-*"):
        f.write_bytes(b"\x00garbage")
    answer = json.loads(run(["list", "--all", "--no-processes", "--json"], env, check=True).stdout)
    assert answer["ok"] is True and isinstance(answer["problems"], list)
    out = answer["sessions"]
    assert {o["id"] for o in out} == set(truth["sessions"])


def test_unreadable_transcript_is_reported_not_fatal(fake_home):
    from llm_sessions.core.accounting.providers.claude import ClaudeProvider
    from tests.unit.claude_lines import assistant, write

    proj = fake_home / ".claude" / "projects" / "-w"
    write(proj / "good.jsonl", [assistant("m1", "r1", "2026-11-20T10:00:00.000Z", sid="good")])
    (proj / "gone.jsonl").symlink_to(proj / "deleted-before-we-read-it.jsonl")
    res = ClaudeProvider({"HOME": str(fake_home)}).scan()
    assert [s.id for s in res.sessions] == ["good"]
    assert any("gone.jsonl" in str(p) for p in res.problems)


def test_history_rebuilds_from_transcripts_and_survives_a_corrupt_db(corpus, fake_home):
    truth, env = corpus
    db = fake_home / ".llm-session" / "data" / "llm-session.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    res = run(["history", "--json"], env, check=True)
    assert "moved it to" in res.stderr
    assert {r["id"] for r in json.loads(res.stdout)} == set(truth["sessions"])
    assert list(db.parent.glob("llm-session.db.corrupt-*"))
    sid = sorted(truth["sessions"])[0]
    samples = json.loads(run(["history", sid[:12], "--json"], env, check=True).stdout)
    assert samples["id"] == sid and samples["samples"][-1]["tokens_total"] == truth["sessions"][sid]["tokens"]["total"]


def test_history_against_another_sqlalchemy_url(corpus, tmp_path):
    truth, env = corpus
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    out = json.loads(run(["history", "--db", url, "--json"], env, check=True).stdout)
    assert len(out) == len(truth["sessions"]) and (tmp_path / "elsewhere.db").exists()


def test_list_shows_a_running_session_with_its_process(spawner, tmp_path, fake_home):
    """A process named `claude` in a folder with a fresh transcript is listed as running."""
    from llm_sessions.core.accounting.roots import encode_cwd
    from tests.unit.claude_lines import assistant, user, write

    work = tmp_path / "proj"
    work.mkdir()
    proc = spawner.spawn("claude", cwd=work)
    sid = "5e55i0n-live"
    write(fake_home / ".claude" / "projects" / encode_cwd(os.path.realpath(work)) / f"{sid}.jsonl", [
        user("2030-01-01T00:00:00.000Z", sid=sid),
        assistant("m1", "r1", "2030-01-01T00:00:01.000Z", inp=100, out=20, cr=5000, sid=sid, cwd=str(work)),
    ])
    out = json.loads(run(["list", "--json"], dict(os.environ), check=True).stdout)["sessions"]
    mine = [o for o in out if o["pid"] == proc.pid]
    assert len(mine) == 1 and mine[0]["id"] == sid
    assert mine[0]["state"] in {"working", "waiting", "idle"} and mine[0]["match"]
    assert mine[0]["tokens"]["total"] == 5120 and mine[0]["rss_bytes"] > 0
    human = run(["list"], dict(os.environ), check=True).stdout
    assert sid[:8] in human


def test_export_then_import_through_the_real_cli(corpus, tmp_path, fake_home):
    truth, env = corpus
    sid = next(s for s, t in sorted(truth["sessions"].items()) if t["tool"] == "claude")
    out = tmp_path / "out"
    res = run(["export", sid[:12], "--format", "both", "-o", f"{out}/", "--json"], env, check=True)
    written = json.loads(res.stdout)
    assert written["session"] == sid and len(written["paths"]) == 2
    bundle = next(p for p in written["paths"] if p.endswith(".json"))
    assert oct(os.stat(bundle).st_mode & 0o777) == "0o600"
    back = json.loads(run(["import", bundle, "--json"], env, check=True).stdout)["bundle"]
    assert back["session"]["id"] == sid and back["schema"] == "llm-session.bundle/1"
    assert {k: back["session"]["usage"][k] for k in truth["sessions"][sid]["tokens"]} == truth["sessions"][sid]["tokens"]
    again = run(["export", sid[:12], "--format", "json", "-o", bundle], env)
    assert again.returncode != 0 and "Traceback" not in again.stderr  # never overwritten without --force
    hist = json.loads(run(["history", "--json"], env, check=True).stdout)
    assert any(r["id"] == sid for r in hist)


def test_every_command_accepts_json(fake_home):
    env = dict(os.environ)
    assert json.loads(run(["config", "path", "--json"], env, check=True).stdout)["exists"] is False
    assert json.loads(run(["config", "init", "--json"], env, check=True).stdout)["wrote"].endswith("config.toml")
    for args in (["list", "--json"], ["list", "--all", "--json"], ["health", "--json"]):
        answer = json.loads(run(args, env, check=True).stdout)
        # other tests' fake assistants may be running, so running sessions are not asserted
        assert answer["ok"] is True and isinstance(answer["sessions"], list) and isinstance(answer["problems"], list), args
    assert isinstance(json.loads(run(["history", "--json"], env, check=True).stdout), list)


def test_list_all_asks_the_processes_so_what_does_not_run_is_ended(corpus):
    """`list --all` once said `unknown` for every session, running or not."""
    truth, env = corpus
    out = {o["id"]: o for o in json.loads(run(["list", "--all", "--json"], env, check=True).stdout)["sessions"]}
    for sid in truth["sessions"]:  # (rows of this machine's own processes are left alone)
        assert out[sid]["state"] == "ended" and out[sid]["running"] is False and out[sid]["state_note"] is None
    health = json.loads(run(["health", sorted(truth["sessions"])[0], "--json"], env, check=True).stdout)
    assert health["state"] == "ended" and health["health"]["duration"]["reason"].startswith("ran for")
    assert "idle for" not in health["health"]["activity"]["reason"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["health", "zzzz-no-such"], 2, "no session id starts with"),
        (["health"], 2, "needs an ID or --all"),
        (["list", "--bogus"], 2, "--bogus"),
        (["history", "zzzz-no-such"], 2, "no session id starts with"),
        (["config", "init", "--force", "--bogus"], 2, "--bogus"),
        (["export", "zzzz-no-such"], 2, "zzzz-no-such"),
    ],
)
def test_every_json_command_fails_in_json_with_the_exit_code(corpus, args, code, words):
    _, env = corpus
    extra = ["--no-processes"] if args == ["health"] else []
    res = run([*args, *extra, "--json"], env)
    assert res.returncode == code, res.stderr
    out = json.loads(res.stdout)
    assert out["ok"] is False and out["exit_code"] == code and words in out["error"]
    assert "Traceback" not in res.stderr


def test_a_broken_config_is_json_too(fake_home):
    cfg = fake_home / ".llm-session" / "config" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("[general]\nrefresh_seconds = = 3\n")
    res = run(["list", "--json"], dict(os.environ))
    assert res.returncode == 2 and json.loads(res.stdout)["error"].startswith(str(cfg))


def test_history_json_uses_the_list_json_shape(corpus):
    truth, env = corpus
    listed = {o["id"]: o for o in json.loads(run(["list", "--all", "--no-processes", "--json"], env, check=True).stdout)["sessions"]}
    history = json.loads(run(["history", "--json"], env, check=True).stdout)
    assert {r["id"] for r in history} == set(truth["sessions"])
    for row in history:
        assert row["tokens"] == listed[row["id"]]["tokens"]
        assert (row["context"] or {}).get("used") == (listed[row["id"]]["context"] or {}).get("used")
        assert set(row["health"]) == {"score", "status"} and row["last_activity"].endswith("Z")
    one = json.loads(run(["history", history[0]["id"][:12], "--json"], env, check=True).stdout)
    assert one["session"]["tokens"] == history[0]["tokens"]


def test_list_shows_unique_prefixes_aligned(fake_home):
    from tests.unit.claude_lines import assistant, write

    proj = fake_home / ".claude" / "projects" / "-w"
    for sid in ("abcdef12-1111", "abcdef12-2222", "0f0f0f0f-0000-4000-8000-日本語のフォルダ"):
        write(proj / f"{sid}.jsonl", [assistant("m" + sid, "r", "2026-11-20T10:00:00.000Z", sid=sid, cwd="/w/" + "x" * 60, cr=1000)])
    lines = run(["list", "--all", "--no-processes"], dict(os.environ), check=True).stdout.splitlines()
    ids = [line.split()[0] for line in lines[1:]]
    assert sorted(ids) == ["0f0f0f0f", "abcdef12-1", "abcdef12-2"]
    starts = {line.index("claude") for line in lines[1:]}
    assert len(starts) == 1 and lines[0].index("TOOL") == starts.pop()
    assert all(line.rstrip().endswith("x" * 10) and "…" in line for line in lines[1:])  # the path's tail, cut at its start


def test_prices_lists_the_table_and_what_the_transcripts_use(corpus, tmp_path):
    truth, env = corpus
    out = json.loads(run(["prices", "--json"], env, check=True).stdout)
    assert out["litellm_version"] and out["as_of"][:2] == "20" and out["models_in_table"] >= 100
    assert out["overrides"] and all(o["source"] and o["checked"] for o in out["overrides"])
    seen = {r["model"]: r for r in out["seen"]}
    used = {s["model"] for s in truth["sessions"].values()}
    assert used <= set(seen) | {None}
    assert all(r["price"] is not None for r in out["seen"]) and out["unpriced"] == []
    opus = seen["claude-opus-4-6"]
    assert opus["price"]["cache_write_1h"] == 10 and opus["periods"] == 2 and "claude" in opus["tools"]
    text = run(["prices"], env, check=True).stdout
    assert "Every model in your transcripts is priced." in text and "claude-opus-4-6" in text

    # a model nobody prices: the session's cost is null and prices says why
    config = tmp_path / "cfg"
    project = Path(env["HOME"]) / ".claude" / "projects" / "-w-new"
    project.mkdir(parents=True)
    line = {"type": "assistant", "sessionId": "new-model", "timestamp": "2026-11-20T10:00:00Z", "cwd": "/w/new",
            "message": {"id": "m1", "model": "claude-opus-9", "usage": {"input_tokens": 5, "output_tokens": 5}}}
    (project / "new-model.jsonl").write_text(json.dumps(line) + "\n")
    env2 = dict(env, CLAUDE_CONFIG_DIR=str(Path(env["HOME"]) / ".claude"), LLM_SESSION_HOME=str(config))
    out = json.loads(run(["prices", "--json"], env2, check=True).stdout)
    assert [u["what"] for u in out["unpriced"]] == ["claude-opus-9"]
    listed = {o["id"]: o for o in json.loads(run(["list", "--all", "--json"], env2, check=True).stdout)["sessions"]}
    assert listed["new-model"]["cost_usd"] is None
    assert "NO PRICE" in run(["prices"], env2, check=True).stdout


def test_doctor_reports_drift_per_assistant(corpus):
    truth, env = corpus
    out = json.loads(run(["doctor", "--json"], env, check=True).stdout)
    tools = {t["tool"]: t for t in out["assistants"]}
    assert set(tools) == {"claude", "codex", "gemini", "aider", "cursor", "copilot"}
    claude = tools["claude"]
    assert claude["files"] > 10 and claude["lines"] > 1000 and claude["versions"]
    unknown = {u["what"] for u in claude["not_understood"]}
    assert any(w.startswith("record:x-future-") for w in unknown)
    assert claude["malformed_lines"] >= truth["traps"]["malformed_text_lines"]
    assert {s["why"] for s in claude["files_skipped"]} == {"empty file", "no conversation record (ghost stub or junk)"}
    assert all(u["example"] for u in claude["not_understood"])
    assert tools["codex"]["files"] >= 10 and tools["codex"]["versions"]
    assert tools["copilot"]["files"] == 3 and tools["gemini"]["files"] == 4
    assert any(r["exists"] for r in claude["roots"])
    text = run(["doctor"], env, check=True).stdout
    assert text.startswith("Format doctor:") and "claude:" in text and "not understood: record:x-future-" in text
