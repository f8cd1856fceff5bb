"""`export` and `import` through Typer: outputs, exit codes, no tracebacks, tmux launch."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from llm_sessions.cli_export import ExportDeps, register
from llm_sessions.core.export.bundle import read_bundle
from tests.tmux_helpers import wait_for
from tests.transcript_factory import claude_session_file, codex_session_file
from tests.unit.test_export_bundle import PLANTED, make_session

runner = CliRunner()


@pytest.fixture
def world(tmp_path):
    """Two sessions sharing a prefix, a fake resolver and a recorder, like the real app's."""
    project = tmp_path / "proj"
    project.mkdir()
    c = make_session(claude_session_file(tmp_path / "home", secret=PLANTED["anthropic"]), cwd=str(project))
    x = make_session(codex_session_file(tmp_path / "home"), tool="codex", cwd=str(project), model="gpt-5-codex")
    x = x.with_(id="5f1c0000-aaaa-bbbb-cccc-000000000000")
    sessions = [c, x]
    recorded = []

    def find(prefix: str):
        hits = [s for s in sessions if s.id.startswith(prefix)]
        if not hits:
            raise LookupError(f"no session id starts with {prefix!r}")
        if len(hits) > 1:
            raise LookupError(f"{prefix!r} is ambiguous: {', '.join(s.id[:12] for s in hits)}")
        return hits[0]

    env: dict[str, str] = {}
    deps = ExportDeps(
        find_session=find, exports_dir=tmp_path / "exports", budget_tokens=8000,
        record=lambda *a: recorded.append(a), env=env,
    )
    app = typer.Typer()
    register(app, lambda: deps)
    return app, deps, recorded, c, x, env


def test_export_default_folder_and_json_result(world, tmp_path):
    app, deps, recorded, c, _x, _env = world
    res = runner.invoke(app, ["export", "5f1c2a", "--format", "both", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["ok"] and out["session"] == c.id and out["redactions"] >= 1
    paths = [tmp_path / "exports" / p.split("/")[-1] for p in out["paths"]]
    assert [p.suffix for p in paths] == [".md", ".json"] and all(p.exists() for p in paths)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in paths)
    assert PLANTED["anthropic"].encode() not in paths[0].read_bytes() + paths[1].read_bytes()
    assert [r[2] for r in recorded] == ["md", "json"] and recorded[0][0] == c.id


def test_export_options(world, tmp_path):
    app, *_ = world
    dest = tmp_path / "brief.md"
    res = runner.invoke(app, ["export", "5f1c2a", "-o", str(dest), "--sections", "goal,todos", "--budget", "3000"])
    assert res.exit_code == 0, res.output
    assert f"wrote {dest}" in res.stdout
    text = dest.read_text()
    assert "## Goal" in text and "## Open todos" in text and "## Files touched" not in text
    again = runner.invoke(app, ["export", "5f1c2a", "-o", str(dest)])
    assert again.exit_code == 1 and "exists; use --force" in again.stderr
    forced = runner.invoke(app, ["export", "5f1c2a", "-o", str(dest), "--force", "--no-redact"])
    assert forced.exit_code == 0 and PLANTED["anthropic"] in dest.read_text()
    assert "redaction OFF" in forced.stdout


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["export", "5f1c"], 2, "ambiguous"),
        (["export", "zzz"], 2, "no session id starts with"),
        (["export", "5f1c2a", "--format", "pdf"], 2, "unknown format"),
        (["export", "5f1c2a", "--sections", "goal,nope"], 2, "unknown section(s): nope"),
        (["export", "5f1c2a", "--budget", "0"], 2, "--budget"),
    ],
)
def test_export_errors_are_one_line(world, args, code, message):
    app, *_ = world
    res = runner.invoke(app, args)
    assert res.exit_code == code
    assert message in res.stderr and "Traceback" not in res.output
    as_json = runner.invoke(app, args + ["--json"])
    assert as_json.exit_code == code and json.loads(as_json.stdout)["ok"] is False


def test_import_round_trip_and_print(world, tmp_path):
    app, *_ = world
    dest = tmp_path / "b"
    assert runner.invoke(app, ["export", "5f1c2a", "-f", "json", "-o", str(dest)]).exit_code == 0
    res = runner.invoke(app, ["import", str(dest.with_suffix(".json"))])
    assert res.exit_code == 0
    assert res.stdout.rstrip("\n") == read_bundle(dest.with_suffix(".json")).markdown.rstrip("\n")
    res = runner.invoke(app, ["import", str(dest.with_suffix(".json")), "--json"])
    assert json.loads(res.stdout)["bundle"] == read_bundle(dest.with_suffix(".json")).to_dict()


def test_import_rejects_non_bundles(world, tmp_path):
    app, *_ = world
    bad = tmp_path / "notes.md"
    bad.write_text("# hello")
    res = runner.invoke(app, ["import", str(bad)])
    assert res.exit_code == 1 and "not an llm-session bundle" in res.stderr and "Traceback" not in res.output
    res = runner.invoke(app, ["import", str(tmp_path / "missing.json"), "--json"])
    assert res.exit_code == 1 and "no such file" in json.loads(res.stdout)["error"]


def test_import_launch_outside_tmux_prints_the_command(world, tmp_path):
    app, *_ = world
    runner.invoke(app, ["export", "5f1c0000", "-f", "both", "-o", str(tmp_path / "cx")])
    res = runner.invoke(app, ["import", str(tmp_path / "cx.json"), "--launch"])
    assert res.exit_code == 0, res.output
    assert f'cd -- {tmp_path / "proj"} && codex -- "$(cat -- {tmp_path / "cx.md"})"' in res.stdout


def test_import_launch_in_tmux_opens_a_window(world, tmp_path, tmux_with_fakes, fakes, monkeypatch):
    app, deps, _rec, c, _x, env = world
    socket = tmux_with_fakes.run("display-message", "-p", "#{socket_path}")
    env["TMUX"] = f"{socket},1,0"
    monkeypatch.setenv("PATH", fakes.env()["PATH"])  # tmux gives the new window our PATH
    runner.invoke(app, ["export", "5f1c2a", "-f", "json", "-o", str(tmp_path / "only.json")])
    res = runner.invoke(app, ["import", str(tmp_path / "only.json"), "--launch", "--yes", "--json"])
    assert res.exit_code == 0, res.output
    launch = json.loads(res.stdout)["launch"]
    assert launch["launched"] is True and launch["tmux_pane"].startswith("%")
    cwd, args = wait_for(lambda: fakes.read("claude"), "claude in the new tmux window")
    assert cwd == c.cwd
    assert args == ["--", read_bundle(tmp_path / "only.json").markdown.rstrip("\n")]
    assert launch["brief"].startswith(str(deps.exports_dir))  # no .md beside it: one was written


# -- issue 8: a bundle is untrusted input ----------------------------------------------------


def hostile_bundle(tmp_path, source, **changes):
    """A copy of a real bundle with fields changed the way a crafted one could be."""
    data = json.loads(source.read_text())
    for key, value in changes.items():
        if key == "cwd":
            data["session"]["cwd"] = value
        else:
            data[key] = value
    out = tmp_path / f"hostile-{len(list(tmp_path.glob('hostile-*')))}.json"
    out.write_text(json.dumps(data))
    return out


def in_tmux(env, tmux_with_fakes, fakes, monkeypatch):
    socket = tmux_with_fakes.run("display-message", "-p", "#{socket_path}")
    env["TMUX"] = f"{socket},1,0"
    monkeypatch.setenv("PATH", fakes.env()["PATH"])


def test_launch_passes_a_dash_brief_as_a_prompt_not_an_option(world, tmp_path, tmux_with_fakes, fakes, monkeypatch):
    """Finding 1: `claude --settings=…` would define hooks, i.e. run code."""
    app, _deps, _rec, c, _x, env = world
    in_tmux(env, tmux_with_fakes, fakes, monkeypatch)
    runner.invoke(app, ["export", "5f1c2a", "-f", "json", "-o", str(tmp_path / "b.json")])
    evil = hostile_bundle(tmp_path, tmp_path / "b.json", markdown="--settings=/tmp/hooks.json\n# brief\n")
    res = runner.invoke(app, ["import", str(evil), "--launch", "--yes"])
    assert res.exit_code == 0, res.output
    _cwd, args = wait_for(lambda: fakes.read("claude"), "claude in the new tmux window")
    assert args == ["--", "--settings=/tmp/hooks.json\n# brief"]


def test_launch_in_tmux_asks_first(world, tmp_path, tmux_with_fakes, fakes, monkeypatch):
    """Finding 1: inside tmux the brief and the command are shown, and one key decides."""
    import llm_sessions.cli_export as cli_export

    app, _deps, _rec, _c, _x, env = world
    in_tmux(env, tmux_with_fakes, fakes, monkeypatch)
    runner.invoke(app, ["export", "5f1c2a", "-f", "json", "-o", str(tmp_path / "b.json")])
    windows = tmux_with_fakes.run("list-windows", "-a")
    # no terminal to ask on: nothing starts, and the message says how to go on
    res = runner.invoke(app, ["import", str(tmp_path / "b.json"), "--launch"])
    assert res.exit_code == 2 and "--yes" in res.stderr
    assert tmux_with_fakes.run("list-windows", "-a") == windows
    # a terminal, and the answer is no
    monkeypatch.setattr(cli_export, "can_ask", lambda: True)
    asked = []
    monkeypatch.setattr(cli_export, "ask_one_key", lambda q: asked.append(q) or False)
    res = runner.invoke(app, ["import", str(tmp_path / "b.json"), "--launch"])
    assert res.exit_code == 0, res.output
    assert "Add a CSV export" in res.stdout and "not started" in res.stdout
    assert asked and "claude -- " in asked[0]
    assert tmux_with_fakes.run("list-windows", "-a") == windows
    # y: it starts
    monkeypatch.setattr(cli_export, "ask_one_key", lambda q: True)
    res = runner.invoke(app, ["import", str(tmp_path / "b.json"), "--launch"])
    assert res.exit_code == 0, res.output and "started claude" in res.stdout
    wait_for(lambda: fakes.read("claude"), "claude in the new tmux window")


def test_launch_refuses_a_folder_with_control_characters(world, tmp_path):
    app, *_ = world
    runner.invoke(app, ["export", "5f1c2a", "-f", "json", "-o", str(tmp_path / "b.json")])
    evil = hostile_bundle(tmp_path, tmp_path / "b.json", cwd=f"{tmp_path}/x\x15; touch {tmp_path}/pwned")
    res = runner.invoke(app, ["import", str(evil), "--launch"])
    assert res.exit_code == 2 and "control character" in res.stderr and "\\x15" in res.stderr
    assert "\x15" not in res.output and not (tmp_path / "pwned").exists()


def test_launch_never_overwrites_a_brief_the_user_edited(world, tmp_path):
    """Finding 10: the exported .md may have been edited; import --launch leaves it alone."""
    app, deps, *_ = world
    res = runner.invoke(app, ["export", "5f1c2a", "-f", "both", "--json"])
    md, js = (Path(p) for p in json.loads(res.stdout)["paths"])
    md.write_text("my own notes, edited by hand\n")
    res = runner.invoke(app, ["import", str(js), "--launch"])
    assert res.exit_code == 0, res.output
    assert md.read_text() == "my own notes, edited by hand\n"
    written = [p for p in deps.exports_dir.iterdir() if p.suffix == ".md" and p != md]
    assert len(written) == 1 and written[0].read_text() == read_bundle(js).markdown
    assert str(written[0]) in res.stdout and "left as it is" in res.stdout
    # a second launch reuses that identical brief instead of writing another
    runner.invoke(app, ["import", str(js), "--launch"])
    assert sorted(deps.exports_dir.iterdir()) == sorted([md, js, written[0]])


def test_import_prints_a_hostile_brief_inert(world, tmp_path):
    """Finding 3: a bundle's brief reaches the terminal with its control characters spelled out."""
    import subprocess
    import sys

    app, *_ = world
    runner.invoke(app, ["export", "5f1c2a", "-f", "json", "-o", str(tmp_path / "b.json")])
    evil = hostile_bundle(tmp_path, tmp_path / "b.json", markdown="# t\x1b]0;pwned\x07\n\x1b]52;c;cm0gLXJmIH4=\x07ok\n")
    done = subprocess.run(
        [sys.executable, "-m", "llm_sessions", "import", str(evil)], capture_output=True, text=True,
        env={"HOME": str(tmp_path), "LLM_SESSION_HOME": str(tmp_path / "lsh"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "# t\\x1b]0;pwned\\x07" in done.stdout and "\\x1b]52;c;cm0gLXJmIH4=\\x07ok" in done.stdout


@pytest.mark.parametrize("key,answer", [("y", "True"), ("n", "False"), ("\r", "False")])
def test_the_question_takes_one_key(key, answer):
    """`y` alone answers (no Enter): a confirmed launch still takes one key."""
    import os
    import pty
    import subprocess
    import sys

    main, child = pty.openpty()
    code = "from llm_sessions.cli_export import ask_one_key; print('ANSWER', ask_one_key('start?'))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=child, stdout=child, stderr=child, close_fds=True)
    os.close(child)
    out = b""
    try:
        while b"[y/N]" not in out:
            out += os.read(main, 1024)
        os.write(main, key.encode())
        while b"ANSWER" not in out or not out.rstrip().endswith((b"True", b"False")):
            out += os.read(main, 1024)
    finally:
        proc.wait(timeout=20)
        os.close(main)
    assert out.split(b"ANSWER")[1].split()[0].decode() == answer
