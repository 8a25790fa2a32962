"""Level 3: one session's transcript, following new messages like `tail -f`."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import var
from textual.widgets import Input

from .. import format as fmt
from ...model.snapshots import LiveTurn, Message, QueuedMessage, SessionHeader, StoreStatus, Transcript
from ...model.text import one_line
from ...model.queries import RefreshState, TranscriptQuery
from ..widgets.filter_box import FilterBox
from ..widgets.footer import FitFooter
from ..widgets.live_turn import LiveTurnView, QueuedView, SteerView
from ..widgets.session_card import unpriced_words
from ..widgets.message_view import MessageView, part_styles
from ..widgets.status import StatusLine
from ..widgets.text_line import TextLine
from ..widgets.transcript_scroll import TranscriptScroll
from .base import DataScreen
from .session_search import TranscriptSearch

#: Message widgets kept mounted; older ones are unmounted while following.
MAX_MOUNTED = 600
#: Messages of the first screen: more than a tall terminal shows, few enough
#: to mount at once (a widget each); older pages come as the operator scrolls up.
FIRST_PAGE = 40
OLDER_PAGE = 150


class TranscriptScreen(DataScreen[Transcript], TranscriptSearch):
    """Messages in order. Follows the end while the view is at the bottom;
    scrolling up stops following, End resumes. `/` searches (TranscriptSearch)."""

    COMPONENT_CLASSES = {"transcript--good", "transcript--warn", "transcript--bad", "transcript--none"}
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="back to the task (a search first: close it)"),
        Binding("slash", "search", "Search", key_display="/", priority=True,
                tooltip="search this transcript (Enter goes to the match)"),
        Binding("G", "follow", "Follow (End)", tooltip="follow new messages (and the turn streaming) again"),
        Binding("g", "top", "Top/older (Home)", tooltip="the top (loads older messages)"),
        Binding("n", "next_match(1)", "Next match (newer)", show=False,
                tooltip="next search match down (newer) / up (older); the box says “2 of 8”"),
        Binding("N", "next_match(-1)", "Prev match (older)", show=False,
                tooltip="next search match down (newer) / up (older); the box says “2 of 8”"),
        Binding("t", "toggle_thinking", "Thinking", tooltip="unfold / fold thinking"),
        Binding("j", "scroll(1)", "Down", show=False, tooltip="scroll up / down"),
        Binding("k", "scroll(-1)", "Up", show=False, tooltip="scroll up / down"),
    ]

    #: Thinking unfolded (`t`), in every message and the turn streaming.
    show_thinking = var(False, init=False)

    def __init__(self, session_id: str, *, title: str = "", host: str = "") -> None:
        """``host``: the session's (ids are per host; its title names it: "gpu1 #42 worker")."""
        super().__init__()
        self.session_id = session_id
        self.host = host
        self.context_title = title
        self.header: SessionHeader | None = None
        self.last_id: int | None = None
        self.first_id: int | None = None
        self.has_older = False
        self.following = True
        self.unseen = 0
        self.needle = ""
        self.current = None
        self._loading_older = False
        self._live: LiveTurnView | None = None  # the turn streaming now, after the stored messages
        self._queued: QueuedView | None = None  # what waits for the next turn, after everything
        self._steered: set[int] = set()  # stored messages marked as steering

    def compose(self) -> ComposeResult:
        yield TextLine(id="title", classes="screen-title")
        yield TextLine(id="session-head", classes="task-fields")
        yield FilterBox("search this transcript (Enter: to the match, then n newer, N older)",
                        id="filter")
        with TranscriptScroll(id="messages"):
            yield TextLine(id="older", classes="older-note")
        yield TextLine(id="follow-note", classes="follow-note")
        yield StatusLine()
        yield FitFooter()

    AUTO_FOCUS = "#messages"

    def on_mount(self) -> None:
        self.query_one("#title", TextLine).show(Text(f"Session {one_line(self.session_id, 40)}: reading…"))
        self.query_one("#messages").focus()
        # Textual's anchor keeps the view at the end through every layout while
        # it grows (a streaming turn grows many times a second); any scroll by
        # the operator releases it and scroll_end takes it again: follow mode.
        self.scroller.anchor()
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def _restyle(self, _theme: object = None) -> None:
        """Messages take their part styles when made: give them the new theme's."""
        styles = part_styles(self.scroller)
        for view in self.scroller.query_children(MessageView):
            view.restyle(styles)
        if self._live is not None:
            self._live.restyle(styles)
        if self._queued is not None:
            self._queued.restyle(styles)

    def data_query(self) -> TranscriptQuery:
        return TranscriptQuery(self.session_id, after_id=self.last_id, limit=FIRST_PAGE, host=self.host)

    # --- data in ------------------------------------------------------------------------

    @property
    def scroller(self) -> TranscriptScroll:
        return self.query_one("#messages", TranscriptScroll)

    @on(TranscriptScroll.Moved)
    def _moved(self) -> None:
        """Following is Textual's anchor: released by the operator's scroll up,
        taken again at the end; a layout mid-mount does not leave it."""
        following = self.scroller.following
        if following:
            self.unseen = 0
        if following != self.following or following:
            self.following = following
            self._render_notes()
        if self.scroller.scroll_y == 0 and self.has_older and not self._loading_older:
            self._load_older()  # reading back past the top: fetch the page before

    def apply(self, data: Transcript, status: StoreStatus, refresh: RefreshState) -> None:
        super().apply(data, status, refresh)
        if self.header is not None and data.header.epoch != self.header.epoch:
            # tau deleted messages (a compaction) or the id is a new session's:
            # what is on screen is no longer the record. Read it afresh.
            self._start_over()
            return
        self.header = data.header
        first_load = self.last_id is None
        if first_load:
            self.has_older = data.has_older
            self.first_id = data.messages[0].id if data.messages else None
        self._render_head()
        # Following is a state the operator leaves by scrolling (see _moved), not
        # where the view is now: a read may land before the last scroll to the
        # end has been laid out.
        follow = first_load or self.following
        if data.messages:
            # Before the streaming turn: a stored message takes the place of
            # its streamed self, and nothing above moves.
            self.scroller.mount_all(self._views(data.messages), before=self._live or self._queued)
            self.last_id = data.messages[-1].id
            self._trim()
            if not follow:
                self.unseen += len(data.messages)
        self._show_live(data.live)
        self._mark_steered(data.steered)
        self._show_queued(data.queued, data.header.queued)
        if self.needle and data.messages:
            self.say_position()  # more messages: more matches
        if follow and (data.messages or data.live is not None):
            self.unseen = 0
            self.call_after_refresh(self._to_end)
        self._render_notes()

    def _to_end(self) -> None:
        """To the end after a read's layout, unless the operator let go meanwhile
        (Home, a scroll up): scroll_end would take the anchor back from them."""
        if self.scroller.following:
            self.scroller.scroll_end(animate=False, immediate=True)

    def _show_live(self, turn: LiveTurn | None) -> None:
        """The turn as it streams, at the end; gone once tau has stored it all."""
        view = self._live
        if turn is None:
            if view is not None:
                view.remove()
                self._live = None
        elif view is None:
            self._live = LiveTurnView(turn, show_thinking=self.show_thinking, styles=part_styles(self.scroller))
            self.scroller.mount(self._live, before=self._queued)
        else:
            view.show(turn)

    def _show_queued(self, queued: tuple[QueuedMessage, ...], total: int) -> None:
        """The messages waiting for the next turn, at the very end."""
        view = self._queued
        if not queued:
            if view is not None:
                view.remove()
                self._queued = None
        elif view is None:
            self._queued = QueuedView(queued, total, styles=part_styles(self.scroller))
            self.scroller.mount(self._queued)
        else:
            view.show(queued, total)

    def _mark_steered(self, steered: tuple[int, ...]) -> None:
        """Stored messages that reached the running turn as steering: marked in
        their place (one mounted before tau's word came is replaced)."""
        new = set(steered) - self._steered
        if not new:
            return
        self._steered |= new
        for view in list(self.scroller.query_children(MessageView)):
            if view.msg.id in new and not isinstance(view, SteerView):
                self.scroller.mount(self._views((view.msg,))[0], before=view)
                view.remove()

    def _start_over(self) -> None:
        for view in list(self.scroller.query_children(MessageView)):
            view.remove()
        self._show_live(None)
        self._show_queued((), 0)
        self._steered.clear()
        self.current = None
        self.header = None
        self.last_id = self.first_id = None
        self.has_older = False
        self.following = True
        self.unseen = 0
        self.dashboard.request_refresh(force=True)

    def _views(self, messages: tuple[Message, ...]) -> list[MessageView]:
        """Widgets for these messages, styled for the current theme."""
        styles = part_styles(self.scroller)
        return [(SteerView if m.id in self._steered else MessageView)(m, show_thinking=self.show_thinking,
                                                                       styles=styles) for m in messages]

    def _trim(self) -> None:
        """Bound the widgets kept while following a very long live session."""
        if not self.following:
            return
        views = list(self.scroller.query_children(MessageView))
        extra = len(views) - MAX_MOUNTED
        if extra > 0:
            for v in views[:extra]:
                v.remove()
            self.first_id = views[extra].msg.id
            self.has_older = True

    def _render_head(self) -> None:
        h = self.header
        if h is None:
            return
        now = self.now()
        title = Text()
        title.append(f"Session {one_line(h.id, 40)}", style="bold")
        if self.context_title:
            title.append(f"  {one_line(self.context_title, 40)}")
        if h.tagline:
            title.append(f"  “{one_line(h.tagline, 80)}”")
        self.query_one("#title", TextLine).show(title)
        f = Text(no_wrap=True, overflow="ellipsis")
        if h.gone:
            f.append("session gone from tau.db")
        else:
            if h.is_live:
                f.append(f"{fmt.spinner(now)} live: {one_line(h.last_phase, 20)} "
                         f"{fmt.live_times(h.phase_since, h.turn_since, now)}")
            else:
                f.append(one_line(fmt.phase_word(h.last_phase, h.phase_source), 40))
            if h.last_exit_status:
                f.append(f" · last turn {one_line(h.last_exit_status, 16)}")
            if h.archived:
                f.append(" · archived")
            if h.successor_id:
                f.append(f" · retired → {one_line(h.successor_id, 24)}")
            if h.queued:
                f.append(f" · ✉ {h.queued} queued")
            if not h.tau_loads:
                f.append(" · tau cannot load it (model_json)")
            if h.unreadable:
                # tau reads the whole history as empty when one row fails.
                f.append(f" · {h.message_count:,} rows, {h.unreadable} unreadable (tau: 0 messages)")
                f.append(f" · {fmt.tokens(h.tokens)} tokens")
            else:
                f.append(f" · {h.message_count:,} messages · {fmt.tokens(h.tokens)} tokens")
            if h.use is not None and h.tokens:
                f.append(f" ({fmt.token_parts(h.use)})")
            # tau stores no compaction or loop-review call: no total has them.
            f.append(f" · {fmt.cost(h.cost)} (stored calls)")
            if any(h.unpriced):
                f.append(f" + {unpriced_words(h.unpriced)} unpriced")
            if not h.usage_complete:
                f.append(" (counting…)")
            if h.context_pct is not None:  # coloured as it nears the window (tau compacts there)
                f.append(" · context ")
                f.append(f"{h.context_pct:.0f}%", style=str(self.get_component_rich_style(
                    f"transcript--{fmt.context_tone(h.context_pct)}", partial=True)))
            if h.model:
                f.append(f" · {one_line(h.model, 30)}")
            f.append(f" · started {fmt.age(h.created_at / 1000, now)} ago")
        self.query_one("#session-head", TextLine).show(f)

    def _render_notes(self) -> None:
        older = self.query_one("#older", TextLine)
        older.show(Text("▲ older messages: Home loads them" if self.has_older else "— start of session —"))
        note = self.query_one("#follow-note", TextLine)
        loaded = len(self.scroller.query_children(MessageView))
        total = self.header.message_count if self.header is not None else loaded
        shown = f"   {loaded:,} of {total:,} messages loaded" if total > loaded else ""
        if self.following:
            note.show(Text(f"▼ following new messages{shown}"))
        else:
            more = f"{self.unseen} new below · " if self.unseen else ""
            note.show(Text(f"⏸ not following ({more}End resumes){shown}"))
        note.set_class(not self.following, "-paused")

    def tick(self, now: float) -> None:
        super().tick(now)
        self._render_head()

    # --- keys ------------------------------------------------------------------------------

    def action_scroll(self, lines: int) -> None:
        if lines < 0:
            self.scroller.scroll_up(animate=False)
        else:
            self.scroller.scroll_down(animate=False)

    def action_follow(self) -> None:
        self.following = True
        self.unseen = 0
        self.scroller.scroll_end(animate=False, immediate=True)
        self._render_notes()

    def action_top(self) -> None:
        self.following = False
        self.scroller.release_anchor()
        self._render_notes()
        if self.has_older and not self._loading_older:
            self._load_older()
        else:
            self.scroller.scroll_home(animate=False)

    @work(group="older", exclusive=True)
    async def _load_older(self) -> None:
        """Mount the page before the first message, keeping the reading position."""
        self._loading_older = True
        try:
            previous_first = next(iter(self.scroller.query_children(MessageView)), None)
            was_at = previous_first.virtual_region.y if previous_first is not None else 0
            if await self._fetch_older() and previous_first is not None:
                self._keep_place(previous_first, was_at)
        finally:
            self._loading_older = False

    def _keep_place(self, first: MessageView, was_at: int, until: float | None = None) -> None:
        """The message that was first back at the top, once the page above it is
        laid out: scrolled to before that (it is still at its old place, or the
        scroller's height is the old one and clamps the scroll), the reader is
        thrown a page back. Looked at again every 20 ms, for 3 s at most: a
        timer, not call_after_refresh, which can run again and again before
        the layout it waits for (a busy loop that holds the layout off)."""
        until = time.monotonic() + 3.0 if until is None else until
        if not first.is_attached:
            return
        y = first.virtual_region.y
        laid_out = y > was_at and self.scroller.virtual_size.height > y
        if not laid_out and time.monotonic() < until:
            self.set_timer(0.02, lambda: self._keep_place(first, was_at, until))
            return
        self.scroller.scroll_to_widget(first, animate=False, top=True)

    async def _fetch_older(self) -> bool:
        """Mount the page before the first loaded message; False if there was none."""
        if self.first_id is None or not self.has_older:
            return False
        data = await self.dashboard.read_older(self.session_id, self.first_id, OLDER_PAGE, host=self.host)
        if not data.messages:
            self.has_older = False
            self._render_notes()
            return False
        views = self._views(data.messages)
        await self.scroller.mount_all(views, after=self.query_one("#older"))
        self.first_id = data.messages[0].id
        self.has_older = data.has_older
        self._render_notes()
        return True

    def action_toggle_thinking(self) -> None:
        self.show_thinking = not self.show_thinking

    def watch_show_thinking(self, show: bool) -> None:
        for view in self.scroller.query_children(MessageView):
            view.set_thinking(show)
        if self._live is not None:
            self._live.set_thinking(show)

    def action_back(self) -> None:
        if self.close_search():
            self.scroller.focus()
            return
        self.app.pop_screen()

    def action_search(self) -> None:
        self.query_one(FilterBox).slash()

    @on(Input.Changed, "#filter")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search_typed(event.value)

    @on(Input.Submitted, "#filter")
    def _search_submitted(self) -> None:
        """Enter: to the match, and the keys go back to the transcript (n, N)."""
        self.scroller.focus()
        self.action_next_match(1)
