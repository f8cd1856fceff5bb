"""Redaction: every planted credential shape is replaced and counted; harmless text stays."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm_sessions.core.export.redact import MARK, redact

SECRETS = [
    ("export OPENAI_API_KEY=sk-proj-{}", "sk-proj-"),
    ("key sk-ant-api03-{} in a prompt", "sk-ant-api03-"),
    ("plain sk-{}", "sk-"),
    ("aws_access_key_id AKIA{}", "AKIA"),
    ("token ghp_{}", "ghp_"),
    ("oauth gho_{}", "gho_"),
    ("pat github_pat_{}", "github_pat_"),
    ("slack xoxb-{}", "xoxb-"),
    ("slack xoxp-{}", "xoxp-"),
]


@pytest.mark.parametrize("template,prefix", SECRETS)
def test_prefixed_tokens_are_redacted(template, prefix):
    body = "ABCDEFGHIJKLMNOP" if prefix == "AKIA" else "Zq9xW2vB7nM4kL1pR8tY6uI3oE5aS0dF"
    secret = prefix + body
    text, n = redact(template.format(body))
    assert secret not in text and body not in text
    assert n >= 1 and MARK in text


def test_private_key_block_is_removed_whole():
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUJDREVGRw==\n-----END OPENSSH PRIVATE KEY-----"
    text, n = redact(f"before\n{pem}\nafter")
    assert text == f"before\n{MARK}\nafter" and n == 1


@pytest.mark.parametrize(
    "line,value",
    [
        ("DB_PASSWORD=hunter2", "hunter2"),
        ('{"client_secret": "s3cr3t value"}', "s3cr3t value"),
        ("api_key: 'abc def'", "abc def"),
        ("SESSION_TOKEN=abc.def.ghi", "abc.def.ghi"),
        ("mysql --password=pa55word -u root", "pa55word"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
        ("postgres://app:topsecret@db:5432/x", "topsecret"),
    ],
)
def test_named_secrets_keep_the_name_and_lose_the_value(line, value):
    text, n = redact(line)
    assert value not in text and n == 1 and MARK in text


@pytest.mark.parametrize("line", [
    "max_tokens=4096", "token_count: 12", "author: Ada", "see https://example.com/a/b",
    "API_KEY=${API_KEY}", "password=<your password>", "def tokenize(text): pass",
])
def test_harmless_text_is_left_alone(line):
    assert redact(line) == (line, 0)


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
def test_redaction_is_idempotent(text):
    once, _ = redact(text)
    assert redact(once) == (once, 0)


@pytest.mark.parametrize("unit", ["a.", "a-", "--a", "a:b", "key_", "x=", "http://"])
def test_long_repetitive_text_is_left_alone(unit):
    # These shapes once made the name and URL patterns backtrack quadratically; with the
    # bounded patterns they are a single linear pass (a regression shows up as a hang).
    text = unit * (60_000 // len(unit))
    assert redact(text) == (text, 0)
