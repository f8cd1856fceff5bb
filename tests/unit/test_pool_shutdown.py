"""A cold parallel scan never leaves its workers behind (issue 11, item 8).

The CLI runs in a subprocess whose parse is slowed down (each file takes half a second in a
worker), so the test can signal it while the workers are busy: SIGTERM as `timeout` and
systemd send it, SIGINT as Ctrl-C does, and SIGKILL, after which only the workers' own
parent-death watch can clean up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.unit.claude_lines import assistant, write

DRIVER = r"""
import signal, sys, time
# Ctrl-C as in an interactive terminal: a shell starts background jobs (`cmd &`, a CI
# runner's) with SIGINT ignored, an ignore every child inherits, and Python then installs
# no KeyboardInterrupt handler; ignoring it there is right, but it is not what this tests.
signal.signal(signal.SIGINT, signal.default_int_handler)
from llm_sessions.core.accounting import pool
from llm_sessions.core.accounting.providers import claude

pool.MIN_BYTES = 0
real = claude.parse_one

def slow(f, st, problems):
    time.sleep(0.5)
    return real(f, st, problems)

claude.parse_one = slow
sys.argv = ["llm-session", "list", "--all", "--no-processes"]
from llm_sessions.cli import main
main()
"""


def _start(fake_home):
    for i in range(16):
        write(fake_home / ".claude" / "projects" / "-w" / f"s{i}.jsonl",
              [assistant(f"m{i}", "r", "2026-11-20T10:00:00.000Z", sid=f"s{i}")])
    env = dict(os.environ, LLM_SESSION_GENERAL_WORKERS="2")
    proc = subprocess.Popen([sys.executable, "-c", DRIVER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 30
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = [c for c in parent.children(recursive=True) if c.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.05)
    assert len(workers) >= 2, "the pool never started"
    time.sleep(0.3)  # the workers are parsing now
    return proc, workers


def _all_gone(workers, within=10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        time.sleep(0.1)
    for w in workers:  # never leave them behind, even when the test fails
        try:
            w.kill()
        except psutil.Error:
            pass
    return False


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130), (signal.SIGHUP, 128 + signal.SIGHUP)]
)
def test_a_signal_during_a_cold_parallel_scan_ends_the_workers_too(fake_home, sig, code):
    proc, workers = _start(fake_home)
    os.kill(proc.pid, sig)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert sig == signal.SIGINT or "interrupted" in err  # Typer ends Ctrl-C quietly with 130
    assert _all_gone(workers)


def test_workers_die_with_a_parent_killed_outright(fake_home):
    proc, workers = _start(fake_home)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert _all_gone(workers)


def test_an_uninterrupted_parallel_scan_still_answers(fake_home):
    proc, workers = _start(fake_home)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(out.splitlines()) == 17  # a header and every session
    assert _all_gone(workers)
