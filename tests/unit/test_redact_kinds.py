"""Issue 8, finding 7: 33 common kinds of credential, each in a prompt, in tool output and in
file contents, never reach a brief; ordinary code is left alone; nothing is cut before it is
redacted.

The values are made up in the published shape of each credential (prefix, alphabet, length).
"""

from __future__ import annotations

import random
import string

import pytest

from llm_sessions.core.export.brief import SECTIONS
from llm_sessions.core.export.build import build_bundle
from llm_sessions.core.export.bundle import write_bundle
from llm_sessions.core.export.digest import one_line
from llm_sessions.core.export.redact import MARK, cut, redact
from llm_sessions.core.export.transcript import read_digest
from tests.transcript_factory import ClaudeWriter
from tests.unit.test_export_bundle import make_session

_rng = random.Random(8)
ALNUM = string.ascii_letters + string.digits


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


HEX = "0123456789abcdef"
PEM_BODY = "\n".join(r(64, ALNUM + "+/") for _ in range(6))

# (kind, line as it appears in text, the secret part that must not survive)
KINDS: list[tuple[str, str, str]] = []


def kind(name: str, line: str, secret: str) -> None:
    KINDS.append((name, line, secret))


for name, secret in [
    ("anthropic", f"sk-ant-api03-{r(93)}AA"),
    ("openai project", f"sk-proj-{r(58)}T3BlbkFJ{r(58)}"),
    ("openai legacy", f"sk-{r(20)}T3BlbkFJ{r(20)}"),
    ("aws access key id", "AKIA" + r(16, string.ascii_uppercase + string.digits)),
    ("github pat", "ghp_" + r(36)),
    ("github fine-grained pat", "github_pat_" + r(22) + "_" + r(59)),
    ("gitlab pat", "glpat-" + r(20)),
    ("slack bot token", f"xoxb-{r(12, string.digits)}-{r(13, string.digits)}-{r(24)}"),
    ("slack webhook", f"https://hooks.slack.com/services/T{r(8, string.ascii_uppercase)}/B{r(8, string.ascii_uppercase)}/{r(24)}"),
    ("discord webhook", f"https://discord.com/api/webhooks/{r(18, string.digits)}/{r(68)}"),
    ("stripe secret key", "sk_live_" + r(24)),
    ("stripe webhook secret", "whsec_" + r(32)),
    ("google api key", "AIza" + r(35)),
    ("groq", "gsk_" + r(52)),
    ("xai", "xai-" + r(80)),
    ("pypi", "pypi-AgEIcHlwaS5vcmc" + r(60)),
    ("npm", "npm_" + r(36)),
    ("hugging face", "hf_" + r(34, string.ascii_letters)),
    ("sendgrid", f"SG.{r(22)}.{r(43)}"),
    ("telegram bot", f"{r(9, string.digits)}:AA{r(33)}"),
    ("jwt", f"eyJ{r(30)}.eyJ{r(60)}.{r(43)}"),
    ("digitalocean", "dop_v1_" + r(64, HEX)),
]:
    kind(name, secret, secret)

_pem = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----"
kind("private key", _pem, PEM_BODY)
_tok = r(40)
kind("authorization: bearer (lowercase)", f"authorization: bearer {_tok}", _tok)
_basic = r(28, ALNUM + "+/") + "=="
kind("authorization: basic", f"Authorization: Basic {_basic}", _basic)
_pw = r(16)
kind("url with a password", f"postgres://app:{_pw}@db.internal:5432/app", _pw)
_pw2 = r(16)
kind("url with a password and an empty user", f"redis://:{_pw2}@cache:6379/0", _pw2)
_pw3 = r(14)
kind("curl -u user:pass", f"curl -sS -u deploy:{_pw3} https://api.example.com/v1/x", _pw3)
_pw4 = r(14)
kind("mysql -pPASS", f"mysql -h db -u root -p{_pw4} shop", _pw4)
_pw5 = r(14)
kind("sshpass -p", f"sshpass -p '{_pw5}' ssh deploy@host", _pw5)
_pw6 = r(18)
kind("env file password", f"DATABASE_PASSWORD={_pw6}", _pw6)
_aws_secret = r(40, ALNUM + "+/")
kind("aws secret access key", f"aws_secret_access_key = {_aws_secret}", _aws_secret)
_pw7 = r(32)
kind("json client secret", f'{{"client_id": "app", "client_secret": "{_pw7}"}}', _pw7)

assert len(KINDS) == 33


def contexts(line: str) -> dict[str, str]:
    return {
        "prompt": f"Please help, this fails with {line} and I don't know why",
        "tool output": f"+ ./deploy.sh\nloading config\n{line}\nerror: exit 1\n",
        "file contents": f"# settings\nDEBUG = false\n{line}\nTIMEOUT = 30\n",
    }


def leaked(secret: str, text: str, fragment: int = 10) -> str | None:
    """The secret, or any `fragment`-character piece of it, found in `text`."""
    if secret in text:
        return secret
    for i in range(0, max(1, len(secret) - fragment + 1)):
        piece = secret[i : i + fragment]
        if "\n" not in piece and piece in text:
            return piece
    return None


@pytest.mark.parametrize("name,line,secret", KINDS, ids=[k[0] for k in KINDS])
@pytest.mark.parametrize("where", ["prompt", "tool output", "file contents"])
def test_each_kind_is_redacted_in_each_kind_of_text(name, line, secret, where):
    text = contexts(line)[where]
    out, n = redact(text)
    assert n >= 1 and MARK in out
    assert leaked(secret, out) is None, (name, where, out)


@pytest.mark.parametrize("name,line,secret", KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_is_absent_from_both_exported_files(tmp_path, name, line, secret):
    """Through the whole export: a prompt, a failing command's output, a file the assistant
    wrote and quoted back."""
    c = contexts(line)
    w = ClaudeWriter()
    w.user(c["prompt"])
    w.tool("Bash", "b1", command="./deploy.sh")
    w.result("b1", c["tool output"] + line, is_error=True)  # the brief quotes the last line
    w.tool("Write", "w1", file_path="/home/dev/project/settings.py", content=c["file contents"])
    w.result("w1", "File created")
    w.text(f"I wrote settings.py:\n\n```\n{c['file contents']}```")
    path = w.write(tmp_path / "home")
    b = build_bundle(make_session(path), read_digest(path), sections=set(SECTIONS), budget_tokens=8000, git_status=None)
    written = write_bundle(b, tmp_path / "out" / "brief", "both")
    text = "".join(p.read_text() for p in written)
    assert leaked(secret, text) is None, name
    assert b.redactions >= (2 if name == "private key" else 3)  # a PEM block's last line is its END marker


BENIGN = [
    "api_key = os.environ['OPENAI_API_KEY']",
    'api_key = os.environ.get("OPENAI_API_KEY")',
    "token = get_token()",
    "password = getpass.getpass()",
    "password=user_password",
    "SECRET_KEY = settings.SECRET_KEY",
    "api_key: str = Field(...)",
    "const apiKey = process.env.API_KEY;",
    'headers = {"Authorization": f"Bearer {token}"}',
    "self.token = token",
    "PWD=/home/me/project",
    "OLDPWD=/tmp",
    "primary_key=True",
    "sort_key=lambda item: item.name",
    "cache_key = f'user:{user_id}'",
    "max_tokens=4096",
    "token_count: 1234",
    '"input_tokens": 1234,',
    "tokenizer = AutoTokenizer.from_pretrained('gpt2')",
    "password_hash = bcrypt.hash(pw)",
    "auth: ${{ secrets.GITHUB_TOKEN }}",
    "export GITHUB_TOKEN=$GH_TOKEN",
    "password: ${DB_PASSWORD}",
    "git@github.com:org/repo.git",
    "ssh://git@host:22/srv/repo.git",
    "https://example.com/a/b?page=2",
    "commit 3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "id 5f1c2a9e-1111-4222-8333-944455556666",
    "Bearer tokens expire after an hour",
    "def tokenize(text): pass",
    "if password == confirm:",
    "secret_name = 'prod/db'",
]


@pytest.mark.parametrize("line", BENIGN)
def test_ordinary_code_is_left_alone(line):
    assert redact(line) == (line, 0)


def test_a_key_straddling_a_cut_is_never_published_in_part(tmp_path):
    """Prompts are cut at 1,500 characters and commands at 300; a key that straddled the
    cut used to be redacted after it, unrecognisable, and published minus its tail."""
    aws = "AKIA" + r(16, string.ascii_uppercase + string.digits)
    ghp = "ghp_" + r(36)
    tail_key = "ghp_" + r(36)
    w = ClaudeWriter()
    w.user("x" * 1485 + " " + aws + " and more words after it")
    w.tool("Bash", "b1", command="echo " + "y" * 285 + " " + ghp)
    w.result("b1", "z" * 30 + " " + tail_key + " " + "w" * 380, is_error=True)
    path = w.write(tmp_path / "home")
    b = build_bundle(make_session(path), read_digest(path), sections=set(SECTIONS), budget_tokens=8000, git_status=None)
    text = b.markdown + b.to_json()
    for secret in (aws, ghp, tail_key):
        assert leaked(secret, text, fragment=8) is None, secret


@pytest.mark.parametrize("tail", [False, True])
def test_cut_moves_out_of_a_secret(tail):
    key = "ghp_" + r(36)
    text = "a" * 90 + " " + key + " " + "b" * 90
    short = cut(text, 100, tail=tail)
    assert len(short) <= 100
    assert leaked(key, short, fragment=4) is None
    line = one_line(text, 100)
    assert leaked(key, line, fragment=4) is None


def test_cut_keeps_a_whole_secret_for_the_redactor_when_it_fits():
    key = "sk-ant-api03-" + r(93) + "AA"
    text = "see " + key + " " + "c" * 500
    short = cut(text, 200)
    assert key in short  # kept whole, so redaction after the cut still sees it
    assert redact(short)[0].startswith("see " + MARK)
