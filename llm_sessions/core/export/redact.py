"""Secret redaction for anything llm-session writes out of a transcript.

A resume brief is made to be pasted into another session, a ticket or a chat, and transcripts
are full of pasted keys, `.env` files, config files and command lines with tokens. So an
export redacts by default and says how many secrets it replaced.

The rules are written from the published formats of the credentials (provider prefixes and
lengths, as catalogued by secret scanners such as gitleaks), in three families:

* tokens recognisable by their shape alone (`sk-ant-…`, `ghp_…`, `AKIA…`, `xoxb-…`, JWTs,
  PEM private keys, Slack and Discord webhook URLs ...): replaced whole;
* credentials recognisable by where they stand: `Authorization:` headers (any case, Bearer
  or Basic), a password in a URL (`scheme://user:pw@`, also with an empty user),
  `curl -u user:pw`, `mysql -pPW`, `sshpass -p PW`, `openssl … pass:PW`: the value goes;
* a value assigned to a name that says it is secret (`DB_PASSWORD=…`, `"client_secret": …`,
  `--api-key …`): the name stays so the brief still reads, the value goes. Only literal values
  count: `api_key = os.environ["X"]`, `token = get_token()`, `password=user_password`,
  `${VAR}` and placeholders are code or references, not secrets, and are left alone.

Everything is bounded so that matching stays linear on hostile input. `cut()` shortens a text
without ever cutting through a secret (the cut moves to the secret's edge), so a shortened
text can still be redacted whole; `redact_cut()` redacts first and then cuts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MARK = "[REDACTED]"
ELLIPSIS = "…"
# Longest credential the shape rules know, except PEM blocks (handled at window edges).
_LONGEST = 700

_END = r"(?![A-Za-z0-9_\-])"

# --- whole tokens -------------------------------------------------------------------------
_PEM = (
    r"-----BEGIN[A-Z0-9 _-]{0,60}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
    r"(?:-----END[A-Z0-9 _-]{0,60}PRIVATE KEY(?: BLOCK)?-----|\Z)"
)
# The tail of a PEM block whose beginning was cut off before we saw the text.
_PEM_TAIL = r"\A[A-Za-z0-9+/=\s]{16,}?-----END[A-Z0-9 _-]{0,60}PRIVATE KEY(?: BLOCK)?-----"

# (kind, pattern, needles): a pattern runs only when one of its lowercase needles is in the
# lowercased text, a substring test far cheaper than a regex pass over text without any.
_TOKENS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("private key", _PEM, ("-----begin",)),
    ("private key", _PEM_TAIL, ("-----end",)),
    ("anthropic", r"\bsk-ant-(?:api|admin|oat|sid)[0-9]{2}-[A-Za-z0-9_\-]{20,200}" + _END, ("sk-ant-",)),
    ("openai", r"\bsk-(?:proj|svcacct|admin|or-v1)-[A-Za-z0-9_\-]{20,250}" + _END, ("sk-",)),
    ("openai legacy", r"\bsk-[A-Za-z0-9]{20,100}" + _END, ("sk-",)),
    ("aws access key", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
     ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "anpa", "anva", "aipa", "a3t")),
    ("github", r"\bgh[pousr]_[A-Za-z0-9]{30,255}" + _END, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    ("github fine-grained", r"\bgithub_pat_[A-Za-z0-9_]{20,255}" + _END, ("github_pat_",)),
    ("gitlab", r"\bgl(?:pat|ptt|dt|rt|cbt|soat|imt|agent)-[A-Za-z0-9_\-]{20,300}(?:\.[0-9a-z]{2}[0-9a-z]{7})?" + _END,
     ("glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glsoat-", "glimt-", "glagent-")),
    ("slack token", r"\bxox[abposre]-[A-Za-z0-9\-]{10,250}" + _END, ("xox",)),
    ("slack webhook", r"\bhttps?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,200}", ("hooks.slack.com",)),
    ("discord webhook", r"\bhttps?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{5,25}/[A-Za-z0-9_\-]{20,200}",
     ("/api/webhooks/",)),
    ("stripe", r"\b(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,250}" + _END, ("k_live_", "k_test_", "k_prod_")),
    ("stripe webhook", r"\bwhsec_[A-Za-z0-9+/=]{20,250}" + _END, ("whsec_",)),
    ("google api key", r"\bAIza[0-9A-Za-z_\-]{35}" + _END, ("aiza",)),
    ("google oauth secret", r"\bGOCSPX-[A-Za-z0-9_\-]{20,100}" + _END, ("gocspx-",)),
    ("groq", r"\bgsk_[A-Za-z0-9]{40,100}" + _END, ("gsk_",)),
    ("xai", r"\bxai-[A-Za-z0-9]{40,120}" + _END, ("xai-",)),
    ("perplexity", r"\bpplx-[A-Za-z0-9]{40,100}" + _END, ("pplx-",)),
    ("replicate", r"\br8_[A-Za-z0-9]{30,60}" + _END, ("r8_",)),
    ("pypi", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,1000}", ("pypi-",)),
    ("npm", r"\bnpm_[A-Za-z0-9]{36}" + _END, ("npm_",)),
    ("hugging face", r"\b(?:hf_|api_org_)[A-Za-z0-9]{30,60}" + _END, ("hf_", "api_org_")),
    ("sendgrid", r"\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{30,64}" + _END, ("sg.",)),
    ("telegram bot", r"\b[0-9]{5,16}:A[A-Za-z0-9_\-]{34}" + _END, (":a",)),
    ("digitalocean", r"\bdo[opr]_v1_[a-f0-9]{64}" + _END, ("_v1_",)),
    ("shopify", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _END, ("shp",)),
    ("linear", r"\blin_(?:api|oauth)_[A-Za-z0-9]{40}" + _END, ("lin_",)),
    ("databricks", r"\bdapi[a-f0-9]{32}(?:-[0-9])?" + _END, ("dapi",)),
    ("vault", r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,200}" + _END, ("hvs.", "hvb.", "hvr.")),
    ("doppler", r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,50}" + _END,
     ("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit.")),
    ("sentry", r"\bsntry[su]_[A-Za-z0-9+/=_]{40,400}" + _END, ("sntry",)),
    ("grafana", r"\bgl(?:c|sa)_[A-Za-z0-9+/_=]{32,400}" + _END, ("glc_", "glsa_")),
    ("atlassian", r"\bATATT3[A-Za-z0-9_\-=]{100,300}" + _END, ("atatt3",)),
    ("age", r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b", ("age-secret-key-",)),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", ("eyj",)),
)

# --- values recognised by where they stand ---------------------------------------------
# Each has a `head` kept as is and a `value` replaced.
_VALUE = r"(?P<vq>[\"']?)(?P<value>[^\s\"'`]{1,500})(?P=vq)"
_PLACED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # Authorization / Proxy-Authorization headers, any case, with or without a scheme word.
    ("authorization header",
     r"(?i)(?P<head>\b(?:proxy-)?authorization[\"']?\s{0,5}[:=]\s{0,5}[\"']?"
     r"(?:(?:bearer|basic|token|digest|bot|apikey|sso-key)\s{1,5})?)"
     r"(?P<vq>)(?P<value>[A-Za-z0-9._~+/=:\-]{8,2000})", ("authorization",)),
    # A bearer token on its own (`-H "bearer abc..."`, logs); must contain a digit.
    ("bearer", r"(?i)(?P<head>\bbearer\s{1,5})(?P<vq>)(?P<value>(?=[A-Za-z._~+/=\-]{0,2000}[0-9])[A-Za-z0-9._~+/\-]{16,2000}=*)",
     ("bearer",)),
    # scheme://user:password@host, also scheme://:password@host
    ("url password",
     r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]{1,30}://[^\s/:@'\"]{0,256}:)(?P<vq>)(?P<value>[^\s/@'\"]{1,256})(?=@)", ("://",)),
    ("curl user", r"(?P<head>\bcurl\b[^\n]{0,400}?\s(?:-u|--user)(?:\s{1,5}|=)?(?P<uq>[\"']?)[^\s:\"']{0,100}:)"
                  r"(?P<vq>)(?P<value>[^\s\"']{1,300})", ("curl",)),
    ("mysql password", r"(?P<head>\bmysql(?:dump|admin|import|show|check)?\b[^\n]{0,400}?\s-p)" + _VALUE, ("mysql",)),
    ("sshpass", r"(?P<head>\bsshpass\b[^\n]{0,200}?\s-p\s{0,5})" + _VALUE, ("sshpass",)),
    ("openssl pass", r"(?P<head>\s-pass(?:in|out)?\s{1,5}pass:)" + _VALUE, ("pass:",)),
    ("sas signature", r"(?P<head>[?&]sig=)(?P<vq>)(?P<value>[A-Za-z0-9%+/=]{20,300})", ("sig=",)),
)

# --- values assigned to a name that says it is secret --------------------------------
# The name must *end* in a secret word: `client_secret`, `GITHUB_TOKEN`, `apiKey`, but not
# `secret_name`, `token_count` or `password_hash`.
_STRONG = (r"(?:passw(?:or)?d|passwd|(?<=[_.\-])pwd|secret|token|api[_.\-]?key|access[_.\-]?key|private[_.\-]?key"
           r"|credentials?|auth[_.\-]?key)s?")
_WEAK = r"(?:[_.\-]key|(?<=[a-z0-9])Key)s?"
_NAME = r"(?P<name>[A-Za-z0-9_.\-]{0,50}?(?:(?P<strong>" + _STRONG + r")|(?P<weak>" + _WEAK + r")))"
_SEP = r"\s{0,5}(?P<sep>:=|=>|\?=|=(?!=)|:(?!//|:))\s{0,5}"
_ASSIGNED = re.compile(
    r"(?i:(?P<head>(?<![A-Za-z0-9_])(?P<nq>[\"']?)" + _NAME + r"(?P=nq)" + _SEP + r"))"
    r"(?:(?P<vq>[\"'`])(?P<qvalue>[^\"'`\n]{1,500})(?P=vq)"
    r"|(?P<value>[^\s\"'`,;()\[\]{}<>]{1,500}))"
)
_FLAG = re.compile(
    r"(?i:(?P<head>(?<![\w\-])--?(?P<name>[A-Za-z0-9\-]{0,40}?(?:password|passwd|secret|token|api-?key|access-?key)s?)(?:\s{1,5}|=)))"
    r"(?P<vq>[\"']?)(?P<value>[^\s\"'`]{1,500})(?P=vq)"
)

# Values that are not secrets: references, placeholders, type names, flags, numbers.
_HARMLESS = re.compile(
    r"""^(?:\[REDACTED\]|true|false|null|nil|none|undefined|yes|no|on|off|required|optional
    |str|string|bytes|int|bool|boolean|float|number|any|object|secretstr|optional\[.*
    |\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\{\{.*|\{\{.*|\{[A-Za-z_.]*\}|%\(?[a-z_]*\)?s|\$[0-9]
    |\*+|x{3,}|\.{3}|…|-+|<[^>]*>|\[[^\]]*\]
    |your[\s_\-]?.*|.*[_\-]here|placeholder|example|redacted|secret|password|token
    |\d[\d.,]{0,12}[kKmM%]?|env\b.*|os\.environ.*|process\.env.*)$""",
    re.I | re.X,
)
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
_SNAKE_VAR = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RANDOMISH = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9+/=_.\-]{16,}$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# The name-based rules only run on lines holding one of these words: most text has none,
# and skipping it keeps a pass linear and cheap on long tool output.
_KEYWORD = re.compile(r"(?i)pass|pwd|secret|token|key|credential")

_TOKEN_RE = tuple((re.compile(p), needles) for _kind, p, needles in _TOKENS)
_PLACED_RE = tuple((re.compile(p), needles) for _kind, p, needles in _PLACED)
KINDS: tuple[str, ...] = tuple(dict.fromkeys([k for k, *_ in _TOKENS] + [k for k, *_ in _PLACED] + ["named value"]))


def _present(patterns, low: str):
    """The patterns worth running: one of their needles occurs in the lowercased text."""
    return [pattern for pattern, needles in patterns if any(n in low for n in needles)]


def _assigned_is_secret(m: re.Match[str], text: str) -> bool:
    """A literal value that reads like a secret, not code, a reference or a placeholder."""
    quoted = m.group("qvalue") is not None
    value = m.group("qvalue") if quoted else m.group("value")
    if value is None or len(value.strip()) < 3 or _HARMLESS.match(value.strip()):
        return False
    if m.group("weak") and not m.group("strong"):
        # `sort_key`, `primary_key`, `cache_key`: only a random-looking literal is a secret.
        return bool(_RANDOMISH.match(value))
    if quoted:
        return "{" not in value or "}" not in value  # f"Bearer {token}" is a template
    following = text[m.end() : m.end() + 1]
    if following in ("(", "["):
        return False  # token = get_token(), api_key = keys["x"]
    name, sep = m.group("name"), m.group("sep")
    spaced = text[m.start("sep") - 1 : m.start("sep")].isspace() or text[m.end("sep") : m.end("sep") + 1].isspace()
    if _ENV_NAME.match(name) and sep == "=" and not spaced:
        return True  # NAME=value in an env file or a shell line is a literal
    if _DOTTED.match(value) and not any(c.isdigit() for c in value):
        return False  # settings.SECRET_KEY, os.environ, self.token
    last = re.split(r"[_.\-]", name)[-1].lower()
    if _IDENT.match(value) and (_SNAKE_VAR.match(value) or value.lower() in (name.lower(), last)):
        return False  # password=user_password, token=token
    return True


def _sub_all(text: str, count: list[int]) -> str:
    def whole(_m: re.Match[str]) -> str:
        count[0] += 1
        return MARK

    for pattern in _present(_TOKEN_RE, text.lower()):
        text = pattern.sub(whole, text)

    def keep_head(m: re.Match[str]) -> str:
        value = m.group("value")
        if _HARMLESS.match(value):
            return m.group(0)
        count[0] += 1
        vq = m.group("vq") or ""
        return f"{m.group('head')}{vq}{MARK}{vq}"

    for pattern in _present(_PLACED_RE, text.lower()):
        text = pattern.sub(keep_head, text)
    if not _KEYWORD.search(text):
        return text

    def assigned(m: re.Match[str]) -> str:
        if not _assigned_is_secret(m, m.string):
            return m.group(0)
        count[0] += 1
        vq = m.group("vq") or ""
        return f"{m.group('head')}{vq}{MARK}{vq}"

    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if _KEYWORD.search(line):
            lines[i] = _ASSIGNED.sub(assigned, _FLAG.sub(keep_head, line))
    return "".join(lines)


def redact(text: str) -> tuple[str, int]:
    """Return `text` with secrets replaced by `[REDACTED]` and the number replaced."""
    if not text:
        return text, 0
    count = [0]
    return _sub_all(text, count), count[0]


def secret_spans(text: str) -> list[tuple[int, int]]:
    """Where `redact` would replace something in `text`: (start, end) of each value."""
    spans: list[tuple[int, int]] = []
    low = text.lower()
    for pattern in _present(_TOKEN_RE, low):
        spans.extend(m.span() for m in pattern.finditer(text))
    for pattern in _present(_PLACED_RE, low):
        spans.extend(m.span("value") for m in pattern.finditer(text) if not _HARMLESS.match(m.group("value")))
    offset = 0
    for line in text.splitlines(keepends=True) if _KEYWORD.search(text) else ():
        if _KEYWORD.search(line):
            spans.extend(
                (offset + m.start("value"), offset + m.end("value"))
                for m in _FLAG.finditer(line) if not _HARMLESS.match(m.group("value"))
            )
            for m in _ASSIGNED.finditer(line):
                if _assigned_is_secret(m, line):
                    group = "qvalue" if m.group("qvalue") is not None else "value"
                    spans.append((offset + m.start(group), offset + m.end(group)))
        offset += len(line)
    return spans


def cut(text: str, limit: int, *, tail: bool = False) -> str:
    """`text` shortened to about `limit` characters with an ellipsis, never inside a secret.

    Keeps the head (or with `tail=True` the end). When the cut would fall inside a secret,
    it moves to the secret's edge so the secret is dropped whole, and whatever redacts the
    result later still sees every secret it keeps in full.
    """
    if len(text) <= limit:
        return text
    keep = max(1, limit - len(ELLIPSIS))
    if not tail:
        window = text[: keep + _LONGEST]
        at = keep
        for start, _end in _overlapping(secret_spans(window), at):
            at = min(at, start)
        return text[:at].rstrip() + ELLIPSIS
    offset = max(0, len(text) - keep - _LONGEST)
    window = text[offset:]
    at = len(text) - keep - offset
    for _start, end in _overlapping(secret_spans(window), at):
        at = max(at, end)
    return ELLIPSIS + window[at:].lstrip()


def _overlapping(spans: Iterable[tuple[int, int]], at: int) -> list[tuple[int, int]]:
    return [(s, e) for s, e in spans if s < at < e]


def redact_cut(text: str, limit: int, *, tail: bool = False) -> tuple[str, int]:
    """Redact, then cut: the order that never publishes half a key."""
    clean, n = redact(text)
    return cut(clean, limit, tail=tail), n


__all__ = ["ELLIPSIS", "KINDS", "MARK", "cut", "redact", "redact_cut", "secret_spans"]
