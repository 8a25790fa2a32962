"""The footer: Textual's, fitted to the terminal's width.

Textual's footer lays its keys out in a row and cuts whatever passes the
right edge, often mid-word ("! Al", "r Re"), and at 80 columns it cut "q Quit"
and "? Help" off the task screen. This one drops whole keys instead, the
rightmost first, and never the ones an operator needs to find the rest: quit,
help (which lists every key) and back; nor `!`, what needs the operator (at
80 columns it went first, being rightmost).
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer

from ..textual_private import FooterKey

#: Actions whose keys stay in the footer at any width.
KEEP = frozenset({"quit", "help", "back", "notifications"})


def key_width(key: FooterKey) -> int:
    """Cells the key takes in the (non-compact) footer: " k " then "Label "."""
    if not key.description:
        return cell_len(key.key_display)
    return cell_len(key.key_display) + cell_len(key.description) + 3


class FitFooter(Footer):
    """A footer that drops whole keys, not letters, when the row is too narrow."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        keys = [k for k in self.query(FooterKey) if not k.has_class("-command-palette")]
        palette = sum(key_width(k) + 2 for k in self.query(FooterKey) if k.has_class("-command-palette"))
        room = self.size.width - palette
        widths = [key_width(k) for k in keys]
        total = sum(widths)
        shown = [True] * len(keys)
        for i in reversed(range(len(keys))):
            if total <= room:
                break
            if keys[i].action.rpartition(".")[2] in KEEP:
                continue
            shown[i] = False
            total -= widths[i]
        for key, show in zip(keys, shown):
            if key.display != show:
                key.display = show
