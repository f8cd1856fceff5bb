"""`llm-session list` with plain flags runs before Typer is imported, and answers exactly as
the Typer command does; anything else about `list` (help, a wrong flag) still goes to Typer."""

from __future__ import annotations

import json
import subprocess
import sys

from llm_sessions.synth.corpus import build_corpus
from tests.unit.test_truth import truth_env


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def _env(tmp_path) -> dict:
    build_corpus(tmp_path / "c", seed=2, aider=False)
    _, env = truth_env(tmp_path / "c")
    return {**env, "LLM_SESSION_HOME": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"}


def test_plain_list_skips_typer_and_equals_the_typer_command(tmp_path):
    env = _env(tmp_path)
    # --no-processes: the machine's own assistants (another test's fakes, a real claude)
    # come and go between the two runs; what is compared is the two paths, not the machine
    fast = _run(
        "import sys; sys.argv = ['llm-session', 'list', '--json', '-a', '--no-processes']\n"
        "from llm_sessions.entry import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "sys.stderr.write(' '.join(m for m in ('typer', 'click', 'textual', 'sqlmodel') if m in sys.modules))\n",
        env,
    )
    assert fast.returncode == 0 and fast.stderr == ""  # none of them loaded
    typer_run = _run(
        "import sys; sys.argv = ['llm-session', 'list', '--all', '--json', '--no-processes']\n"
        "from llm_sessions.cli import main\nmain()\n",
        env,
    )
    assert typer_run.returncode == 0
    ids = lambda out: [s["id"] for s in json.loads(out)["sessions"]]  # noqa: E731
    assert ids(fast.stdout) == ids(typer_run.stdout) and len(ids(fast.stdout)) > 10
    strip = lambda out: [{k: v for k, v in s.items() if k != "health"} for s in json.loads(out)["sessions"]]  # noqa: E731
    assert strip(fast.stdout) == strip(typer_run.stdout)


def test_other_list_arguments_go_to_typer(tmp_path):
    env = _env(tmp_path)
    bad = _run("import sys; sys.argv = ['llm-session', 'list', '--all', '--bogus']\nfrom llm_sessions.entry import main\nmain()\n", env)
    assert bad.returncode == 2 and "No such option: --bogus" in bad.stderr
    helped = _run("import sys; sys.argv = ['llm-session', 'list', '--help']\nfrom llm_sessions.entry import main\nmain()\n", env)
    assert helped.returncode == 0 and "--all" in helped.stdout and "--json" in helped.stdout


def test_plain_list_starts_as_every_command(tmp_path):
    """The fast path does what `cli_base.start` does for Typer commands: output through
    InertStream (transcript text never drives the terminal), files private to the user, and
    the cyclic collector off (it costs a cold scan's parent ~50 ms at exit alone)."""
    env = _env(tmp_path)
    probe = _run(
        "import gc, os, sys; sys.argv = ['llm-session', 'list', '--json', '-a', '--no-processes']\n"
        "from llm_sessions.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "mask = os.umask(0)\n"
        "sys.__stderr__.write(f'{type(sys.stdout).__name__} {gc.isenabled()} {mask:o}')\n",
        env,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stderr == "InertStream False 77"


def test_json_written_as_bytes_is_the_same_and_stays_inert():
    """JSON goes to stdout's bytes as the encoder made it, DEL and C1 characters written as
    JSON escapes: inert, and still JSON."""
    import io

    from llm_sessions.cli_base import _emit_json
    from llm_sessions.core.inert import InertStream

    def emitted(data) -> str:
        raw = io.BytesIO()
        text = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)
        old, sys.stdout = sys.stdout, InertStream(text)
        try:
            _emit_json(data)
            sys.stdout.flush()
        finally:
            sys.stdout = old
        return raw.getvalue().decode()

    plain = {"ok": True, "sessions": [{"title": "caf\u00e9 \u2014 \x1b]0;x\x07", "n": 1}]}
    assert json.loads(emitted(plain)) == plain
    assert "\\u001b" in emitted(plain) and emitted(plain).endswith("}\n")
    hostile = {"title": "a\u009b31mb\x7fc"}
    out = emitted(hostile)
    assert "\u009b" not in out and "\x7f" not in out
    assert json.loads(out) == hostile


def test_a_warm_list_loads_no_parser(tmp_path):
    """With the scan cache current, nothing is parsed or saved: the line parser, tempfile
    (saving) and difflib (unknown settings) stay unloaded."""
    env = _env(tmp_path)
    code = (
        "import sys; sys.argv = ['llm-session', 'list', '--json', '-a', '--no-processes']\n"
        "from llm_sessions.entry import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "names = ('llm_sessions.core.accounting.providers.claude_parse', 'tempfile', 'difflib')\n"
        "sys.stderr.raw.write(' '.join(m for m in names if m in sys.modules))\n"
    )
    cold = _run(code, env)
    assert cold.returncode == 0 and "claude_parse" in cold.stderr  # the first run parses and saves
    warm = _run(code, env)
    assert warm.returncode == 0 and warm.stderr == ""
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
