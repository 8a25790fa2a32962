"""The transcript's scroller: tells its screen whenever the view moves, so the
screen knows whether the operator is at the end (following) or reading back."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message

from .message_view import COMPONENT_CLASSES


class TranscriptScroll(VerticalScroll):
    COMPONENT_CLASSES = COMPONENT_CLASSES  # the message parts' styles, for every MessageView in it
    #: Textual's own scroll keys (the same actions), declared here for `?` help.
    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False, tooltip="scroll up / down"),
        Binding("down", "scroll_down", "Scroll down", show=False, tooltip="scroll up / down"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="a page up / down"),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip="a page up / down"),
        Binding("home", "scroll_home", "Top", show=False, tooltip="the top (loads older messages)"),
        Binding("end", "scroll_end", "Follow", show=False,
                tooltip="follow new messages (and the turn streaming) again"),
    ]

    class Moved(Message):
        """The view scrolled (by key, mouse or program)."""

    def action_scroll_end(self) -> None:
        """End takes the anchor back (Textual's follow mode); the screen hears
        of it even when the view is at the end already or gets there before
        the anchor is back (no scroll after it to tell): now and after the
        scroll's refresh."""
        super().action_scroll_end()
        self.post_message(self.Moved())
        self.call_after_refresh(self.post_message, self.Moved())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if old_value != new_value:
            self.post_message(self.Moved())

    @property
    def following(self) -> bool:
        """Anchored at the end and not released by a scroll up, Home or a
        search: Textual's own follow mode, kept through every layout."""
        return self.is_anchored and not self._anchor_released

    @property
    def at_end(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 1
