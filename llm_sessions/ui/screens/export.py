"""The export wizard: sections -> format and destination -> preview -> done.

A ModalScreen that dismisses with an `ExportResult` (or None when cancelled). Nothing is
written before the user presses Write on the preview step, so Escape on any earlier step
leaves the disk untouched. The brief itself is built by the pure core
(`llm_sessions.core.export.build`); this screen only collects choices and shows the result.

After writing, the done step offers: copy the brief to the clipboard (OSC 52 through
`App.copy_to_clipboard`, which works over SSH), open the folder, or restart the session with
the brief (the screen dismisses with `restart=True` and the host pushes the restart dialog).

By keys alone: each step focuses its first control, Tab moves between controls, space
toggles a checkbox or picks a format, and Enter goes on with what is chosen (on a button,
Enter presses that button); so Enter, Enter, Enter writes a brief with the defaults, and
Escape leaves at any step. The step's body scrolls between the docked title and buttons,
so every button stays visible in a 40x20 pane. Messages show in the dialog, never as
toasts behind or over it.

This module is the wizard's behaviour; its widgets, step table and stylesheet are
ui.screens.export_layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, ContentSwitcher, Input, RadioSet, Static

from llm_sessions.core.export.brief import SECTION_TITLES, SECTIONS
from llm_sessions.core.export.build import build_bundle, gather
from llm_sessions.core.export.bundle import Bundle, BundleError, Recorder, target_paths, write_bundle
from llm_sessions.core.export.digest import Digest
from llm_sessions.core.inert import inert
from llm_sessions.core.models import Session
from llm_sessions.ui.focus import FocusRules
from llm_sessions.ui.screens.export_layout import FIRST, HINTS, PRIMARY, STEPS, WIZARD_CSS, buttons_id, compose_wizard

# a budget no brief reaches: the full size, for the estimate
UNBOUNDED = 10**9


@dataclass(frozen=True)
class ExportResult:
    """What the wizard did: the files written and what the user asked for afterwards."""

    bundle: Bundle
    paths: tuple[Path, ...]
    fmt: str
    copied: bool = False
    restart: bool = False


class ExportWizard(FocusRules, ModalScreen[ExportResult | None]):
    """Step-by-step export of one session's resume brief."""

    DEFAULT_CSS = WIZARD_CSS

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", show=True),
        # priority: Enter goes on from a checkbox, the format list or the path field too
        Binding("enter", "default", "Next / write", show=False, priority=True),
    ]

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
        super().__init__(classes="dialog")
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
        self.enter_pending = False  # Enter pressed while reading: act on it once read
        self.bundle: Bundle | None = None
        self.result: ExportResult | None = None

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield from compose_wizard(self.session.title or self.session.id, self.exports_dir)

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
        self._focus_step()

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
            self.say(message.error)
        self.digest, self.git_status, self.reading = message.digest, message.git, False
        self.query_one("#next-format", Button).disabled = False
        self._refresh_estimate()
        if self.enter_pending:
            self.enter_pending = False
            if not message.error:
                self.say("")
            self.action_default()

    # ---------------------------------------------------------------- state
    @property
    def step(self) -> str:
        return self.query_one("#steps", ContentSwitcher).current or STEPS[0]

    def _go(self, step: str) -> None:
        self.query_one("#steps", ContentSwitcher).current = step
        self.query_one("#wizard-buttons", ContentSwitcher).current = buttons_id(step)
        self.query_one("#wizard-hint", Static).update(HINTS[step])
        self.say("")
        self.query_one("#dialog-body", VerticalScroll).scroll_home(animate=False)
        self._focus_step()

    # ---------------------------------------------------------------- keys and focus
    def first_focus(self) -> Widget | None:
        return self.query_one(FIRST[self.step])

    def _focus_step(self) -> None:
        """The new step's first control takes focus: never a button of a step now hidden."""
        self.set_focus(self.query_one(FIRST[self.step]))  # at once, before the next key is read

    def action_default(self) -> None:
        """Enter: press the focused button, or else this step's primary button."""
        focused = self.focused
        button = focused if isinstance(focused, Button) else self.query_one(PRIMARY[self.step], Button)
        if button.disabled:
            if self.reading:
                # Enter typed before the transcript is read goes on once it is: the
                # defaults are the same, and a key must not be lost to a slow disk.
                self.enter_pending = True
                self.say("Still reading the transcript… (Enter goes on when it is read)")
            else:
                self.say("Not available now")
            return
        button.press()

    def say(self, text: str) -> None:
        """A message inside the dialog (a toast would hide behind it, or cover it)."""
        box = self.query_one("#wizard-message", Static)
        box.update(inert(text))  # may quote a path or an error from outside
        box.set_class(not text, "-empty")

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None, markup: bool = True) -> None:
        self.say(f"{title}: {message}" if title else str(message))

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
            self.say("Choose at least one section (space toggles the one in focus)")
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
            self.say(str(exc))
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

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        assert self.result is not None
        self.app.copy_to_clipboard(self.result.bundle.markdown)
        self.result = ExportResult(self.result.bundle, self.result.paths, self.result.fmt, copied=True)
        self.say("Brief copied to the clipboard")

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
