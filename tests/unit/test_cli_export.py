"""`export` and `import` through Typer: outputs, exit codes, no tracebacks, tmux launch."""

from __future__ import annotations

import json
import stat

import pytest
import typer
from typer.testing import CliRunner

from llm_sessions.cli_export import ExportDeps, register
from llm_sessions.core.export import read_bundle
from tests.tmux_helpers import fakes, tmux_server, wait_for  # noqa: F401  (fixtures)
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
    assert f'cd {tmp_path / "proj"} && codex "$(cat {tmp_path / "cx.md"})"' in res.stdout


def test_import_launch_in_tmux_opens_a_window(world, tmp_path, tmux_server, fakes, monkeypatch):
    app, deps, _rec, c, _x, env = world
    socket = tmux_server.run("display-message", "-p", "#{socket_path}")
    env["TMUX"] = f"{socket},1,0"
    monkeypatch.setenv("PATH", fakes.env()["PATH"])  # tmux gives the new window our PATH
    runner.invoke(app, ["export", "5f1c2a", "-f", "json", "-o", str(tmp_path / "only.json")])
    res = runner.invoke(app, ["import", str(tmp_path / "only.json"), "--launch", "--json"])
    assert res.exit_code == 0, res.output
    launch = json.loads(res.stdout)["launch"]
    assert launch["launched"] is True and launch["tmux_pane"].startswith("%")
    cwd, args = wait_for(lambda: fakes.read("claude"), "claude in the new tmux window")
    assert cwd == c.cwd
    assert args == [read_bundle(tmp_path / "only.json").markdown.rstrip("\n")]
    assert launch["brief"].startswith(str(deps.exports_dir))  # no .md beside it: one was written
