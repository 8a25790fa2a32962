"""The `/` box: hidden and unfocusable until asked for, so it never eats keys."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Input


class FilterBox(Input):
    def __init__(self, placeholder: str, **kwargs: object) -> None:
        super().__init__(placeholder=placeholder, disabled=True, classes="filter", **kwargs)  # type: ignore[arg-type]
        self._said = ""

    @property
    def is_open(self) -> bool:
        return not self.disabled

    def open(self) -> None:
        self.disabled = False
        self.add_class("-open")
        # Focus now, not via Widget.focus (which queues it behind the keys already
        # waiting): see `slash`.
        self.screen.set_focus(self)

    def slash(self) -> None:
        """The "/" key. Bound with priority, so the box is focused before the keys
        typed after it are handed out: "/" then "#12" typed in one burst all land
        in the box (a plain binding runs only after the burst has gone to the
        widget that had the focus). So a "/" typed in the box arrives here too."""
        if self.is_open and self.has_focus:
            self.insert_text_at_cursor("/")
        else:
            self.open()

    def say(self, text: str) -> None:
        """A word at the box's right edge, on its frame (a search's "2 of 8"):
        kept out of the text typed, and never a toast over the screen. Literal:
        it may quote what was typed."""
        self._said = text
        self.border_subtitle = Content(text) if text else None

    @property
    def said(self) -> str:
        """What `say` put there (plain text)."""
        return self._said

    def close(self) -> bool:
        """Empty and hide the box; True if there was anything to close."""
        was_open = self.is_open or bool(self.value)
        self.value = ""
        self.say("")
        self.remove_class("-open")
        self.disabled = True
        return was_open
