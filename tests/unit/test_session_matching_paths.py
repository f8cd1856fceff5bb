"""Real paths in process matching: resolved per folder, and only as far as a lookup needs."""

from __future__ import annotations

import os

from llm_sessions.core.live.session_matching import Transcripts, real_path
from llm_sessions.core.models import Session


def _tree(tmp_path):
    real_home = tmp_path / "data" / "claude"
    folder = real_home / "projects" / "-work-app"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text("{}\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.jsonl").write_text("{}\n")
    os.symlink(tmp_path / "elsewhere" / "b.jsonl", folder / "b.jsonl")  # the file itself a link
    os.symlink(real_home, tmp_path / "home-claude")  # the config folder reached through a link
    return folder


def test_real_path_equals_realpath_for_links_in_folders_and_files(tmp_path):
    folder = _tree(tmp_path)
    cache: dict[str, str] = {}
    for p in [
        str(folder / "a.jsonl"),
        str(folder / "b.jsonl"),
        str(tmp_path / "home-claude" / "projects" / "-work-app" / "a.jsonl"),
        str(tmp_path / "home-claude" / "projects" / "-work-app" / "b.jsonl"),
        str(tmp_path / "home-claude" / "projects" / "missing.jsonl"),
        str(tmp_path / "home-claude"),
        "/",
    ]:
        assert real_path(p, cache) == os.path.realpath(p), p


def test_transcripts_found_by_listed_path_and_through_a_linked_config_folder(tmp_path):
    folder = _tree(tmp_path)
    linked = tmp_path / "home-claude" / "projects" / "-work-app"
    direct = Session(id="direct", tool="claude", transcript=str(folder / "a.jsonl"))
    via_link = Session(id="via-link", tool="claude", transcript=str(linked / "b.jsonl"))
    index = Transcripts([direct, via_link], {})
    assert index.get(str(folder / "a.jsonl")) is direct
    assert index._resolved is None  # found as listed: nothing else resolved
    assert index.get("/usr/lib/libc.so.6") is None  # not a transcript's name: no resolving
    assert index._resolved is None
    # what the process holds open is the real file behind both links
    assert index.get(os.path.realpath(linked / "b.jsonl")) is via_link
    assert index.get(str(tmp_path / "elsewhere" / "nope.jsonl")) is None
