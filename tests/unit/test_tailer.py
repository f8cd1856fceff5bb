from llm_sessions.core.accounting import tailer


def read(path, cur):
    import os

    st = os.stat(path)
    if tailer.needs_reset(cur, st):
        cur.offset = 0
    return list(tailer.read_lines(str(path), cur, st))


def test_reads_only_appended_complete_lines(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"a":1}\n{"b":2}\n{"c":')
    cur = tailer.Cursor()
    assert read(p, cur) == [b'{"a":1}', b'{"b":2}']
    assert cur.offset == 16  # the half-written line is left for later
    with p.open("ab") as fh:
        fh.write(b'3}\n\n{"d":4}\n')
    assert read(p, cur) == [b'{"c":3}', b'{"d":4}']
    assert read(p, cur) == []


def test_unchanged_detects_no_work(tmp_path):
    import os

    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"a":1}\n')
    cur = tailer.Cursor()
    read(p, cur)
    assert tailer.unchanged(cur, os.stat(p))
    with p.open("ab") as fh:
        fh.write(b'{"b":1}\n')
    assert not tailer.unchanged(cur, os.stat(p))


def test_truncation_and_replacement_start_over(tmp_path):
    import os

    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"a":1}\n{"b":2}\n')
    cur = tailer.Cursor()
    read(p, cur)
    p.write_bytes(b'{"z":9}\n')  # shorter than what we read: truncated
    assert tailer.needs_reset(cur, os.stat(p))
    assert read(p, cur) == [b'{"z":9}']
    q = tmp_path / "new.jsonl"
    q.write_bytes(b'{"y":8}\n{"x":7}\n{"w":6}\n')
    os.replace(q, p)  # another inode under the same name
    assert tailer.needs_reset(cur, os.stat(p))
    assert read(p, cur) == [b'{"y":8}', b'{"x":7}', b'{"w":6}']


def test_large_file_crosses_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(tailer, "CHUNK", 64)
    p = tmp_path / "t.jsonl"
    lines = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i % 50)) for i in range(200)]
    p.write_bytes(b"\n".join(lines) + b"\n")
    cur = tailer.Cursor()
    assert read(p, cur) == lines
    assert cur.offset == p.stat().st_size
