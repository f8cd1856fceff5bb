"""The export wizard: sections -> format and destination -> preview -> done.

A ModalScreen that dismisses with an `ExportResult` (or None when cancelled). Nothing is
written before the user presses Write on the preview step, so Escape on any earlier step
leaves the disk untouched. The brief itself is built by the pure core
(`llm_sessions.core.export`); this screen only collects choices and shows the result.

After writing, the done step offers: copy the brief to the clipboard (OSC 52 through
`App.copy_to_clipboard`, which works over SSH), open the folder, or restart the session with
the brief (the screen dismisses with `restart=True` and the host pushes the restart dialog).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, ContentSwitcher, Input, Label, RadioButton, RadioSet, Static

from llm_sessions.core.export import (
    SECTION_TITLES,
    SECTIONS,
    Bundle,
    BundleError,
    Recorder,
    build_bundle,
    gather,
    target_paths,
    write_bundle,
)
from llm_sessions.core.inert import inert
from llm_sessions.core.models import Session
from llm_sessions.core.transcript import Digest

STEPS = ("step-sections", "step-format", "step-preview", "step-done")
UNBOUNDED = 10**9


@dataclass(frozen=True)
class ExportResult:
    """What the wizard did: the files written and what the user asked for afterwards."""

    bundle: Bundle
    paths: tuple[Path, ...]
    fmt: str
    copied: bool = False
    restart: bool = False


class ExportWizard(ModalScreen[ExportResult | None]):
    """Step-by-step export of one session's resume brief."""

    DEFAULT_CSS = """
    ExportWizard {
        align: center middle;
    }
    ExportWizard > Vertical#wizard {
        width: 90;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ExportWizard .title {
        text-style: bold;
        color: $text;
        margin-bottom: 1;
    }
    ExportWizard .hint {
        color: $text-muted;
    }
    ExportWizard #estimate {
        height: 2;
        margin-top: 1;
        color: $text-muted;
    }
    ExportWizard #estimate.over {
        color: $warning;
    }
    ExportWizard .error {
        color: $error;
    }
    ExportWizard ContentSwitcher {
        height: auto;
    }
    ExportWizard ContentSwitcher > Vertical {
        height: auto;
    }
    ExportWizard #step-sections Checkbox {
        border: none;
        height: 1;
        padding: 0 1;
    }
    ExportWizard #preview-scroll {
        height: 20;
        border: tall $panel;
    }
    ExportWizard .buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    ExportWizard .buttons Button {
        margin-left: 1;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(
        self,
        session: Session,
        digest: Digest | None,
        *,
        exports_dir: Path,
        budget_tokens: int,
        git_status: str | None = None,
        record: Recorder | None = None,
        open_folder: Callable[[Path], None] | None = None,
        loader: Callable[[], tuple[Digest | None, str | None]] | None = None,
    ) -> None:
        """`loader`, when given, reads the digest and git status in a thread on mount
        (the transcript can be large); otherwise `digest` and `git_status` are used as is."""
        super().__init__()
        self.session = session
        self.digest = digest
        self.exports_dir = exports_dir
        self.budget_tokens = budget_tokens
        self.git_status = git_status
        self.record = record
        self._open_folder = open_folder
        self._loader = loader
        # not `loading`: that is Textual's own reactive and would cover the screen
        self.reading = loader is not None
        self.bundle: Bundle | None = None
        self.result: ExportResult | None = None

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        name = self.session.title or self.session.id
        with Vertical(id="wizard"):
            yield Label(inert(f"Export a resume brief: {name}"), classes="title", markup=False)
            with ContentSwitcher(initial=STEPS[0], id="steps"):
                with Vertical(id="step-sections"):
                    yield Label("1/4  What should the brief include?", classes="hint")
                    for section in SECTIONS:
                        yield Checkbox(SECTION_TITLES[section], True, id=f"sec-{section}")
                    yield Static("", id="estimate")
                    with Horizontal(classes="buttons"):
                        yield Button("Cancel", id="cancel")
                        yield Button("Next", id="next-format", variant="primary")
                with Vertical(id="step-format"):
                    yield Label("2/4  Format and destination", classes="hint")
                    with RadioSet(id="format"):
                        yield RadioButton("Markdown brief (.md)", True, id="fmt-md")
                        yield RadioButton("JSON bundle, importable (.json)", id="fmt-json")
                        yield RadioButton("Both", id="fmt-both")
                    yield Label("Folder, or a file name:")
                    yield Input(str(self.exports_dir), id="dest")
                    yield Checkbox("Redact secrets (recommended)", True, id="redact")
                    yield Checkbox("Overwrite existing files", False, id="force")
                    with Horizontal(classes="buttons"):
                        yield Button("Back", id="back-sections")
                        yield Button("Next", id="next-preview", variant="primary")
                with Vertical(id="step-preview"):
                    yield Label("3/4  Preview", classes="hint")
                    yield Static("", id="preview-info", markup=False)
                    with VerticalScroll(id="preview-scroll"):
                        yield Static("", id="preview", markup=False)
                    yield Static("", id="write-error", classes="error", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Back", id="back-format")
                        yield Button("Write", id="write", variant="primary")
                with Vertical(id="step-done"):
                    yield Label("4/4  Done", classes="hint")
                    yield Static("", id="done-info", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Copy brief", id="copy")
                        yield Button("Open folder", id="open")
                        yield Button("Restart session with it", id="restart", variant="warning")
                        yield Button("Close", id="close", variant="primary")

    @classmethod
    def for_session(
        cls,
        session: Session,
        *,
        exports_dir: Path,
        budget_tokens: int,
        record: Recorder | None = None,
    ) -> ExportWizard:
        """The wizard as the dashboard opens it: transcript and git read off the UI thread."""
        return cls(
            session, None, exports_dir=exports_dir, budget_tokens=budget_tokens, record=record,
            loader=lambda: gather(session),
        )

    def on_mount(self) -> None:
        if self._loader is not None:
            self.query_one("#estimate", Static).update("Reading the transcript…")
            self.query_one("#next-format", Button).disabled = True
            self._load()
        else:
            self._refresh_estimate()

    class Loaded(Message):
        """The transcript digest and git status, read in a thread, delivered to the screen."""

        def __init__(self, digest: Digest | None, git: str | None, error: str | None) -> None:
            super().__init__()
            self.digest, self.git, self.error = digest, git, error

    @work(thread=True, exclusive=True, exit_on_error=False, group="export-load")
    def _load(self) -> None:
        # One message back to the screen's own queue (post_message is thread-safe), so the
        # widgets are updated by the screen's message loop like any other event.
        assert self._loader is not None
        try:
            digest, git = self._loader()
        except OSError as exc:
            self.post_message(self.Loaded(None, None, f"Cannot read the transcript: {exc}"))
            return
        self.post_message(self.Loaded(digest, git, None))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if message.error:
            self.notify(message.error, severity="error", markup=False)
        self.digest, self.git_status, self.reading = message.digest, message.git, False
        self.query_one("#next-format", Button).disabled = False
        self._refresh_estimate()

    # ---------------------------------------------------------------- state
    @property
    def step(self) -> str:
        return self.query_one("#steps", ContentSwitcher).current or STEPS[0]

    def _go(self, step: str) -> None:
        self.query_one("#steps", ContentSwitcher).current = step

    def selected_sections(self) -> set[str]:
        return {s for s in SECTIONS if self.query_one(f"#sec-{s}", Checkbox).value}

    def selected_format(self) -> str:
        pressed = self.query_one("#format", RadioSet).pressed_button
        return (pressed.id or "fmt-md").removeprefix("fmt-") if pressed else "md"

    def _build(self, budget: int | None = None) -> Bundle:
        redact = self.query_one("#redact", Checkbox).value
        return build_bundle(
            self.session,
            self.digest,
            sections=self.selected_sections(),
            budget_tokens=budget or self.budget_tokens,
            redact=redact,
            git_status=self.git_status,
        )

    def _refresh_estimate(self) -> None:
        """Live estimate on the sections step: full size, and what the budget would cut."""
        full = self._build(UNBOUNDED)
        cut = self._build()
        label = self.query_one("#estimate", Static)
        text = f"~{full.estimated_tokens:,} tokens of a {cut.budget_tokens:,} token budget"
        if cut.dropped:
            text += f"; over budget, would drop: {', '.join(SECTION_TITLES[s] for s in cut.dropped)}"
        label.update(text)
        label.set_class(bool(cut.dropped) or full.estimated_tokens > cut.budget_tokens, "over")

    def _targets(self) -> list[Path]:
        assert self.bundle is not None
        dest = self.query_one("#dest", Input).value.strip() or str(self.exports_dir)
        folder = True if Path(dest).expanduser() == self.exports_dir else None
        return [p for _k, p in target_paths(self.bundle, dest, self.selected_format(), folder)]  # type: ignore[arg-type]

    # ---------------------------------------------------------------- events
    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id and event.checkbox.id.startswith("sec-") and not self.reading:
            self._refresh_estimate()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Escape: nothing was written before the done step; after it, report what was."""
        self.dismiss(self.result)

    @on(Button.Pressed, "#next-format")
    def _to_format(self) -> None:
        if not self.selected_sections():
            self.notify("Choose at least one section", severity="warning")
            return
        self._go("step-format")

    @on(Button.Pressed, "#back-sections")
    def _back_sections(self) -> None:
        self._go("step-sections")

    @on(Button.Pressed, "#next-preview")
    @on(Input.Submitted, "#dest")
    def _to_preview(self) -> None:
        try:
            self.bundle = self._build()
            targets = self._targets()
        except BundleError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        b = self.bundle
        info = f"~{b.estimated_tokens:,} tokens (budget {b.budget_tokens:,}), {b.redactions} secret(s) redacted"
        if not b.redacted:
            info += " (REDACTION IS OFF)"
        if b.dropped:
            info += f"; dropped to fit: {', '.join(b.dropped)}"
        info += "\nwill write: " + ", ".join(str(p) for p in targets)
        self.query_one("#preview-info", Static).update(info)
        self.query_one("#preview", Static).update(b.markdown)
        self.query_one("#write-error", Static).update("")
        self._go("step-preview")

    @on(Button.Pressed, "#back-format")
    def _back_format(self) -> None:
        self._go("step-format")

    @on(Button.Pressed, "#write")
    def _write(self) -> None:
        assert self.bundle is not None
        dest = self.query_one("#dest", Input).value.strip() or str(self.exports_dir)
        folder = True if Path(dest).expanduser() == self.exports_dir else None
        fmt = self.selected_format()
        try:
            paths = write_bundle(
                self.bundle, dest, fmt, force=self.query_one("#force", Checkbox).value,  # type: ignore[arg-type]
                record=self.record, folder=folder,
            )
        except BundleError as exc:
            self.query_one("#write-error", Static).update(inert(str(exc)))
            return
        self.result = ExportResult(self.bundle, tuple(paths), fmt)
        self.query_one("#done-info", Static).update(
            "Wrote:\n" + "\n".join(f"  {p}" for p in paths) + f"\n~{self.bundle.estimated_tokens:,} tokens"
        )
        self._go("step-done")
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        assert self.result is not None
        self.app.copy_to_clipboard(self.result.bundle.markdown)
        self.result = ExportResult(self.result.bundle, self.result.paths, self.result.fmt, copied=True)
        self.notify("Brief copied to the clipboard")

    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        assert self.result is not None
        folder = self.result.paths[0].parent
        if self._open_folder is not None:
            self._open_folder(folder)
        else:
            self.app.open_url(folder.as_uri())

    @on(Button.Pressed, "#restart")
    def _restart(self) -> None:
        assert self.result is not None
        r = self.result
        self.dismiss(ExportResult(r.bundle, r.paths, r.fmt, r.copied, restart=True))

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(self.result)


__all__ = ["ExportResult", "ExportWizard"]
