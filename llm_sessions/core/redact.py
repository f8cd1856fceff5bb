"""Secret redaction for anything llm-session writes out of a transcript.

A resume brief is made to be pasted into another session, a ticket or a chat, and transcripts
are full of pasted keys, `.env` files and command lines with tokens. So an export redacts by
default and says how many secrets it replaced. The patterns err on the side of redacting: a
false positive costs a `[REDACTED]` in a brief, a false negative leaks a credential.
"""

from __future__ import annotations

import re

MARK = "[REDACTED]"

# Whole-token credentials recognisable by their prefix. Order matters: the more specific
# prefix (sk-ant-) comes before the general one (sk-).
_TOKEN_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        r"\bsk-ant-[A-Za-z0-9_\-]{10,}",
        r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b",
        r"\bgh[pousr]_[A-Za-z0-9]{20,}",
        r"\bgithub_pat_[A-Za-z0-9_]{20,}",
        r"\bglpat-[A-Za-z0-9_\-]{20,}",
        r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",
        r"\bAIza[0-9A-Za-z_\-]{35}",
        r"\bhf_[A-Za-z0-9]{30,}",
        r"\bnpm_[A-Za-z0-9]{36}",
        r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",
        r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",  # JWT
    )
)

# A name that says it holds a secret: API_KEY, client_secret, GITHUB_TOKEN, db-password ...
# Bounded lengths keep matching linear: an unbounded run like "a.a.a.a…" made it quadratic.
_SECRET_NAME = r"[A-Za-z0-9_.\-]{0,60}?(?:secret|token|passw(?:or)?d|passwd|pwd|key|credentials?)s?(?:[_.\-][A-Za-z0-9_.\-]{0,60})?"

# "name": "value" (JSON, YAML with quotes)
_QUOTED_PAIR = re.compile(
    r"""(?P<head>(?P<q>["'])(?P<name>""" + _SECRET_NAME + r""")(?P=q)\s*:\s*)(?P<vq>["'])(?P<value>[^"'\n]{1,})(?P=vq)""",
    re.I,
)
# NAME="value with spaces", NAME: 'value'
_ASSIGN_QUOTED = re.compile(
    r"""(?P<head>(?<![A-Za-z0-9_.\-])(?P<name>""" + _SECRET_NAME + r""")\s*(?:=|:)\s*)(?P<vq>["'])(?P<value>[^"'\n]{1,})(?P=vq)""",
    re.I,
)
# NAME=value, NAME: value, --token value, --password=value (env files, shell, YAML)
_ASSIGN = re.compile(
    r"""(?P<head>(?<![A-Za-z0-9_.\-])(?P<name>""" + _SECRET_NAME + r""")\s*(?:=|:(?!//))\s*)(?P<vq>["']?)(?P<value>(?![<$])[^\s"'`,;]{1,})(?P=vq)""",
    re.I,
)
_FLAG = re.compile(
    r"""(?P<head>--(?P<name>""" + _SECRET_NAME + r""")[ =])(?P<vq>["']?)(?P<value>[^\s"']{1,})(?P=vq)""",
    re.I,
)
# Authorization: Bearer xxx / Basic xxx
_BEARER = re.compile(r"(?P<head>\b(?:Bearer|Basic|Token)\s+)(?P<value>[A-Za-z0-9_\-.=+/]{16,})")
# scheme://user:password@host
_URL_PASSWORD = re.compile(r"(?P<head>(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]{0,30}://[^/\s:@]{1,256}:)(?P<value>[^@\s/]{1,256})(?=@)", re.I)

# Values that are obviously not secrets: keep them so a brief about config stays readable.
_HARMLESS = re.compile(r"^(?:\[REDACTED\]|true|false|null|none|yes|no|0|1|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\*+|x+|<[^>]*>|\.\.\.|\d[\d.,]{0,12}[kKmM%]?)$", re.I)


def redact(text: str) -> tuple[str, int]:
    """Return `text` with secrets replaced by `[REDACTED]` and the number replaced."""
    if not text:
        return text, 0
    count = 0

    def whole(_m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return MARK

    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(whole, text)

    def keep_head(m: re.Match[str]) -> str:
        nonlocal count
        value = m.group("value")
        if _HARMLESS.match(value):
            return m.group(0)
        count += 1
        vq = m.groupdict().get("vq") or ""
        return f"{m.group('head')}{vq}{MARK}{vq}"

    for pattern in (_QUOTED_PAIR, _FLAG, _ASSIGN_QUOTED, _ASSIGN, _BEARER, _URL_PASSWORD):
        text = pattern.sub(keep_head, text)
    return text, count


__all__ = ["MARK", "redact"]
