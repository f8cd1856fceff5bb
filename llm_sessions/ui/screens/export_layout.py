"""The export wizard's look: its four steps, their widgets, keys hints and stylesheet.

Kept apart from the wizard's behaviour (ui.screens.export) so the layout, which changes with
every tweak for a 40-column pane, reads on its own, and the step table (which control takes
focus, which button Enter presses) sits next to the widgets whose ids it names.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, ContentSwitcher, Input, Label, RadioButton, RadioSet, Static

from llm_sessions.core.export.brief import SECTION_TITLES, SECTIONS
from llm_sessions.core.inert import inert

STEPS = ("step-sections", "step-format", "step-preview", "step-done")
# per step: the control that gets focus, and the button Enter presses when focus is elsewhere
FIRST = {"step-sections": f"#sec-{SECTIONS[0]}", "step-format": "#format", "step-preview": "#preview-scroll", "step-done": "#close"}
PRIMARY = {"step-sections": "#next-format", "step-format": "#next-preview", "step-preview": "#write", "step-done": "#close"}
HINTS = {
    "step-sections": "space toggles · enter next · esc cancel",
    "step-format": "space picks · tab field · enter preview",
    "step-preview": "↑↓ scroll · enter writes · esc cancel",
    "step-done": "tab chooses · enter presses",
}


def buttons_id(step: str) -> str:
    """The id of a step's button row (ids are unique per screen, so not the step's own)."""
    return "buttons-" + step.removeprefix("step-")


WIZARD_CSS = """
ExportWizard > #dialog {
    width: 90;
}
ExportWizard .hint {
    color: $text-muted;
}
ExportWizard #estimate {
    height: auto;
    margin-top: 1;
    color: $text-muted;
}
ExportWizard #estimate.over {
    color: $warning;
}
ExportWizard .error, ExportWizard #wizard-message {
    color: $text-error;
}
ExportWizard #wizard-foot {
    dock: bottom;
    height: auto;
}
ExportWizard #wizard-hint {
    color: $text-muted;
}
ExportWizard #wizard-message {
    height: auto;
}
ExportWizard #wizard-message.-empty {
    display: none;
}
ExportWizard ContentSwitcher {
    height: auto;
}
ExportWizard ContentSwitcher > Vertical {
    height: auto;
}
ExportWizard Checkbox, ExportWizard Checkbox:focus, ExportWizard RadioSet, ExportWizard RadioSet:focus {
    border: none;
    padding: 0 1;
}
ExportWizard Checkbox:focus, ExportWizard RadioSet:focus {
    background: $boost;
}
ExportWizard Checkbox {
    height: 1;
}
ExportWizard #preview-scroll {
    height: auto;
    max-height: 16;
    border: tall $panel-lighten-1;
}
ExportWizard #wizard-buttons {
    height: auto;
}
ExportWizard .buttons {
    height: auto;
    align-horizontal: right;
}
ExportWizard .buttons Button {
    margin-left: 1;
}
/* a 40-column pane: one-line buttons, two to a row */
ExportWizard.-narrow .buttons {
    layout: grid;
    grid-size: 2;
    grid-gutter: 0 1;
    grid-rows: 1;
    height: auto;
}
ExportWizard.-narrow .buttons Button {
    height: 1;
    border: none;
    min-width: 0;
    width: 100%;
    margin: 0;
}
ExportWizard.-narrow #preview-scroll {
    border: none;
}
"""


def compose_wizard(name: str, exports_dir: Path) -> ComposeResult:
    """The dialog for session `name` (outside text, shown inert), every step built at once;
    the ContentSwitchers show one step and its buttons at a time."""
    with Vertical(id="dialog"):
        yield Label(inert(f"Export a resume brief: {name}"), id="dialog-title", classes="title", markup=False)
        with Vertical(id="wizard-foot"):
            yield Static("", id="wizard-message", classes="-empty", markup=False)
            with ContentSwitcher(initial=buttons_id(STEPS[0]), id="wizard-buttons"):
                with Horizontal(classes="buttons", id="buttons-sections"):
                    yield Button("Cancel", id="cancel")
                    yield Button("Next", id="next-format", variant="primary")
                with Horizontal(classes="buttons", id="buttons-format"):
                    yield Button("Back", id="back-sections")
                    yield Button("Next", id="next-preview", variant="primary")
                with Horizontal(classes="buttons", id="buttons-preview"):
                    yield Button("Back", id="back-format")
                    yield Button("Write", id="write", variant="primary")
                with Horizontal(classes="buttons", id="buttons-done"):
                    yield Button("Copy brief", id="copy")
                    yield Button("Open folder", id="open")
                    yield Button("Restart with it", id="restart", variant="warning")
                    yield Button("Close", id="close", variant="primary")
            yield Static(HINTS[STEPS[0]], id="wizard-hint")
        with VerticalScroll(id="dialog-body"), ContentSwitcher(initial=STEPS[0], id="steps"):
            with Vertical(id="step-sections"):
                yield Label("1/4  What should the brief include?", classes="hint")
                for section in SECTIONS:
                    yield Checkbox(SECTION_TITLES[section], True, id=f"sec-{section}")
                yield Static("", id="estimate")
            with Vertical(id="step-format"):
                yield Label("2/4  Format and destination", classes="hint")
                with RadioSet(id="format"):
                    yield RadioButton("Markdown brief (.md)", True, id="fmt-md")
                    yield RadioButton("JSON bundle, importable (.json)", id="fmt-json")
                    yield RadioButton("Both", id="fmt-both")
                yield Label("Folder, or a file name:")
                yield Input(str(exports_dir), id="dest")
                yield Checkbox("Redact secrets (recommended)", True, id="redact")
                yield Checkbox("Overwrite existing files", False, id="force")
            with Vertical(id="step-preview"):
                yield Label("3/4  Preview", classes="hint")
                yield Static("", id="preview-info", markup=False)
                with VerticalScroll(id="preview-scroll"):
                    yield Static("", id="preview", markup=False)
                yield Static("", id="write-error", classes="error", markup=False)
            with Vertical(id="step-done"):
                yield Label("4/4  Done", classes="hint")
                yield Static("", id="done-info", markup=False)
