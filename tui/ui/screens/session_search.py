"""The transcript's search: where the current match is, said in the search line.

Mixed into `TranscriptScreen`. Matches are counted in reading order, from the
top of what is loaded: the line under the box says "2 of 8"; ``n`` goes to the
next one down (newer), ``N`` up (older), and ``N`` at the first loaded match
reads older pages for one more before it wraps. Nothing here is a toast: a
search that types or steps never stacks messages over the screen.
"""

from __future__ import annotations

from textual import work

from ...model.text import one_line
from ..widgets.filter_box import FilterBox
from ..widgets.message_view import MessageView
from ..widgets.transcript_scroll import TranscriptScroll

#: How far back a search reads when no loaded message matches (pages).
SEARCH_BACK_PAGES = 20


class TranscriptSearch:
    """The search's state and keys (the screen provides the scroller and the pages)."""

    needle: str = ""
    #: The message marked as the current match (None: none chosen yet).
    current: MessageView | None = None
    has_older: bool
    following: bool
    _loading_older: bool

    # The screen's: its scroller, the older pages, the notes under the messages.
    @property
    def scroller(self) -> TranscriptScroll:
        raise NotImplementedError

    async def _fetch_older(self) -> bool:
        raise NotImplementedError

    def _render_notes(self) -> None:
        raise NotImplementedError

    @property
    def search_box(self) -> FilterBox:
        return self.scroller.screen.query_one(FilterBox)

    def matches(self) -> list[MessageView]:
        """The loaded messages holding the search's words, top to bottom."""
        if not self.needle:
            return []
        return [v for v in self.scroller.query_children(MessageView) if self.needle in v.haystack]

    def search_typed(self, value: str) -> None:
        """The box changed: a new search, nothing chosen yet; say how many match."""
        self.needle = value.lower()
        self.current = None
        self.say_position()

    def close_search(self) -> bool:
        """Esc: close the box and unmark; False if there was no search."""
        if not self.search_box.close():
            return False
        self.needle = ""
        self.current = None
        self._mark_match(None)
        self.search_box.say("")
        return True

    def say_position(self, note: str = "") -> None:
        """The search line: "2 of 8" (of the loaded messages, while older ones
        are not read), or how many match while none is chosen."""
        if not self.needle:
            self.search_box.say("")
            return
        found = self.matches()
        current = self.current
        loaded = " loaded" if self.has_older else ""
        if not found:
            text = "no match" + (" loaded · Home loads older" if self.has_older else "")
        elif current is not None and current in found:
            text = f"{found.index(current) + 1} of {len(found)}{loaded}"
        else:
            text = f"{len(found)}{loaded} match{'es' if len(found) != 1 else ''} · Enter goes there"
        self.search_box.say(text + (f" · {note}" if note else ""))

    def action_next_match(self, step: int, search_back: bool = True) -> None:
        """n (step 1): the next match down, newer; N (-1): up, older. The first
        goes to the first match from the top of the view down (else the
        nearest above it)."""
        found = self.matches()
        if not found:
            if self.needle and search_back and self.has_older and not self._loading_older:
                self._search_older(0)
            else:
                self.say_position()
            return
        note = ""
        current = self.current
        if current is None or current not in found:
            top = self.scroller.scroll_y
            below = [v for v in found if v.virtual_region.y >= top]
            target = below[0] if below else found[-1]
        else:
            i = found.index(current) + step
            if i < 0 and search_back and self.has_older and not self._loading_older:
                self._search_older(len(found))  # older matches come before the first
                return
            if not 0 <= i < len(found):
                note = "wrapped to the top" if i >= len(found) else "wrapped to the end"
            target = found[i % len(found)]
        self._go_to(target, note)

    def _go_to(self, target: MessageView, note: str = "") -> None:
        self.current = target
        self.following = False
        self.scroller.release_anchor()
        self._mark_match(target)
        self.scroller.scroll_to_widget(target, animate=False, top=True)
        self._render_notes()
        self.say_position(note)

    @work(group="older", exclusive=True)
    async def _search_older(self, had: int) -> None:
        """Read back a page at a time until more than ``had`` loaded messages
        match (or SEARCH_BACK_PAGES pages were read), then go to the nearest
        new one: the last of those above the ones there were."""
        self._loading_older = True
        self.say_position(f"reading older messages for “{one_line(self.needle, 30)}”…")
        try:
            for _ in range(SEARCH_BACK_PAGES):
                if not await self._fetch_older():
                    break
                found = self.matches()
                if len(found) > had:
                    target = found[len(found) - had - 1]
                    # once the new page has its place on screen, so the scroll lands
                    self.scroller.call_after_refresh(self._go_to, target)
                    return
        finally:
            self._loading_older = False
        found = self.matches()
        if had and found:  # nothing older: round to the last
            self._go_to(found[-1], "wrapped to the end")
        else:
            self.say_position("none in older messages either" if self.has_older else "")

    def _mark_match(self, target: MessageView | None) -> None:
        """The current match's message is marked at its edge; in it, only the
        matching text is highlighted."""
        for v in self.scroller.query_children(MessageView):
            v.set_class(v is target, "-match")
            v.set_needle(self.needle if v is target else "")
