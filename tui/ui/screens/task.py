"""Level 2: one task, its fields and history, and a pane per session.

Enter on a retired session's pane offers its successor first (tau forwards
the retired one's messages there); the sessions' heading says that costs are
those of the calls tau stored (a compaction's or a loop review's is in none).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ItemGrid, VerticalScroll
from textual.events import Click
from textual.reactive import var
from textual.widgets import Input

from .. import format as fmt
from ...model.snapshots import (
    ROLES, SessionPane, StoreStatus, TaskDetail,
)
from ...model.hosts import task_label
from ...model.text import one_line
from ...model.queries import RefreshState, TaskQuery
from ..widgets.filter_box import FilterBox
from .successor import RETIRED, SUCCESSOR, SuccessorPrompt
from .task_words import RELATIONS_SHOWN, field_words, history_words, relation_words
from ..widgets.footer import FitFooter
from ..widgets.session_card import SessionCard
from ..widgets.status import StatusLine
from ..widgets.text_line import TextLine
from .base import DataScreen

#: Panes mounted at once; more sessions than this are paged (10,000 exist).
PAGE = 48
PANE_SORTS = ("created", "live first", "activity", "role")
MIN_CARD_WIDTH = 38


def _pane_matches(pane: SessionPane, needle: str) -> bool:
    if not needle:
        return True
    info = pane.info
    hay = " ".join((info.session_id, info.role, info.last_phase or "", info.last_exit_status or "",
                    pane.tagline, pane.model, "gone" if info.gone else "",
                    "retired" if info.successor_id else "", "queued" if info.queued else "")).lower()
    return all(part in hay for part in needle.lower().split())


def _sorted(panes: list[SessionPane], sort: str) -> list[SessionPane]:
    if sort == "live first":
        return sorted(panes, key=lambda p: (not p.info.is_live, p.info.created_at))
    if sort == "activity":
        return sorted(panes, key=lambda p: -(p.info.last_activity or 0))
    if sort == "role":
        order = {r: i for i, r in enumerate(ROLES)}
        return sorted(panes, key=lambda p: (order.get(p.info.role, len(order)), p.info.created_at))
    return panes


class TaskScreen(DataScreen[TaskDetail | None]):
    """Sessions of one task as a responsive grid of panes."""

    AUTO_FOCUS = None  # keys go to the screen's bindings, not to a widget

    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="back to the tasks (a filter first: clear it)"),
        Binding("enter", "open", "Transcript", tooltip="open the session's transcript"),
        Binding("slash", "filter", "Filter", key_display="/", priority=True,
                tooltip="filter the sessions: role, id, phase, exit status, tagline"),
        Binding("l", "live_only", "Live only", tooltip="only live sessions"),
        Binding("a", "toggle_archived", "Archived", tooltip="show / hide archived sessions"),
        Binding("s", "cycle_sort", "Sort", tooltip="sort the panes: created, live first, activity, role"),
        Binding("up,k", "move(-1, 0)", "Up", show=False, tooltip="move between the panes"),
        Binding("down,j", "move(1, 0)", "Down", show=False, tooltip="move between the panes"),
        Binding("left,h", "move(0, -1)", "Left", show=False, tooltip="move between the panes"),
        Binding("right", "move(0, 1)", "Right", show=False, tooltip="move between the panes"),
        Binding("pageup", "move(-8, 0)", "Page up", show=False, tooltip="eight rows of panes up / down"),
        Binding("pagedown", "move(8, 0)", "Page down", show=False, tooltip="eight rows of panes up / down"),
    ]

    # The view: what the operator chose. Each change lays the panes out again
    # (`_view_changed`); none is data, so none asks the store.
    show_archived = var(True, init=False)
    live_only = var(False, init=False)
    #: The filter's words.
    needle = var("", init=False)
    sort = var(PANE_SORTS[0], init=False)
    VIEW = ("show_archived", "live_only", "needle", "sort")

    def __init__(self, task_id: int, host: str = "") -> None:
        """``host``: the task's (ids are per host); "" for this machine alone."""
        super().__init__()
        self.task_id = task_id
        self.host = host
        #: How the task is named: "#42", or "gpu1 #42" with hosts.
        self.label = one_line(task_label(host, task_id), 60)
        self.detail: TaskDetail | None = None
        self.cursor = 0
        self._cursor_session: str | None = None
        self._visible: list[SessionPane] = []
        self._page = -1

    def compose(self) -> ComposeResult:
        yield TextLine(id="title", classes="screen-title")
        yield TextLine(id="task-fields", classes="task-fields")
        yield TextLine(id="sessions-title", classes="section-title")
        yield FilterBox("filter sessions: role, id, phase, exit status, tagline", id="filter")
        with VerticalScroll(id="panes-scroll", can_focus=False):
            yield ItemGrid(id="panes", min_column_width=MIN_CARD_WIDTH)
            yield TextLine(id="page-note", classes="empty")
        yield StatusLine()
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#title", TextLine).show(Text(f"Task {self.label}: reading…"))
        for name in self.VIEW:
            self.watch(self, name, self._view_changed, init=False)

    def _view_changed(self) -> None:
        self._render_panes()

    def data_query(self) -> TaskQuery:
        return TaskQuery(self.task_id, include_archived=True, host=self.host)

    # --- data in --------------------------------------------------------------------------

    def apply(self, data: TaskDetail | None, status: StoreStatus, refresh: RefreshState) -> None:
        super().apply(data, status, refresh)
        if data is None:
            self.query_one("#title", TextLine).show(
                Text(f"Task {self.label} is not in the store (deleted?). Esc goes back."))
            return
        self.detail = data
        self._render_fields()
        self._render_panes()

    def tick(self, now: float) -> None:
        super().tick(now)
        for card in self.query(SessionCard):
            card.tick(now)
        if self.detail is not None:
            self._render_fields()

    def _render_fields(self) -> None:
        d = self.detail
        if d is None:
            return
        now = self.now()
        t = d.task
        title = Text()
        title.append(f"{self.label} ", style="bold")
        title.append(f"{fmt.state_glyph(t.state)} {one_line(t.state, 16)}")
        if t.priority:
            title.append(f"  P{t.priority}")
        if t.held:
            title.append("  ⏸ held")
        if t.waits:  # tau's scheduler's words (task_overview)
            title.append("  ⏳ " + "; ".join(one_line(w, 60) for w in t.waits[:4]))
        elif t.blocked_by:  # tau's ⏳: a dependency not merged or closed
            title.append("  ⏳ waits on " + ", ".join(f"#{b}" for b in t.blocked_by[:4]))
        # the title takes the rest of the line (the label, state and waits first)
        title.append("  " + one_line(t.title, max(20, self.size.width - title.cell_len - 4)), style="bold")
        self.query_one("#title", TextLine).show(title)
        f = Text(no_wrap=True, overflow="ellipsis")
        # short words first, the long branch and tags last: the line's end cuts those
        f.append(f"project {one_line(t.project, 30)}")
        if t.parent_id is not None:
            f.append(f" · parent #{t.parent_id}")
        for name, value in d.extra[:6]:
            f.append(f" · {field_words(name, value)}")
        f.append(f" · updated {fmt.age(t.updated_at / 1000, now)} ago")
        if d.branch:
            f.append(f" · branch {one_line(d.branch, 100)}")
        if d.tags:
            f.append(" · tags " + ", ".join(one_line(x, 20) for x in d.tags[:8]))
        words = relation_words(t.id, d.relations)
        if words:
            shown = words[:RELATIONS_SHOWN]
            more = f" · +{len(words) - len(shown)} more" if len(words) > len(shown) else ""
            f.append("\nrelations  " + " · ".join(shown) + more)
        width = max(20, self.size.width - 2)
        lines = f.split("\n")
        for line in lines:
            line.truncate(width, overflow="ellipsis")  # one screen line each, never wrapped
        states = [h for h in d.history if h.field == "state"]
        if states:
            lines.append(Text("history " + history_words(states, now, width - 8)))
        fields = self.query_one("#task-fields", TextLine)
        # One screen line each, so the height is the number of lines: fixed,
        # an age that ticks ("updated 5s ago") repaints this line alone, where
        # an auto height laid out the whole screen (~50 panes) every second.
        fields.styles.height = len(lines)
        fields.show(Text("\n").join(lines))

    def _visible_panes(self) -> list[SessionPane]:
        d = self.detail
        if d is None:
            return []
        panes = [p for p in d.sessions
                 if (self.show_archived or not p.info.archived)
                 and (not self.live_only or p.info.is_live)
                 and _pane_matches(p, self.needle)]
        return _sorted(panes, self.sort)

    def _render_panes(self) -> None:
        d = self.detail
        if d is None or not self.is_attached or not self.query("#panes"):
            return  # no data yet, or the screen is being closed
        visible = self._visible_panes()
        self._visible = visible
        # Keep the cursor on the same session across updates.
        ids = [p.info.session_id for p in visible]
        if self._cursor_session in ids:
            self.cursor = ids.index(self._cursor_session)
        self.cursor = max(0, min(self.cursor, len(visible) - 1))
        # A session hidden by a filter keeps its claim on the cursor: when it
        # shows again, the cursor goes back to it.
        if self._cursor_session is None and ids:
            self._cursor_session = ids[self.cursor]
        # A retired session live beside its live successor is counted once.
        live_ids = {p.info.session_id for p in d.sessions if p.info.is_live}
        live = sum(1 for p in d.sessions if p.info.is_live and p.info.successor_id not in live_ids)
        archived = sum(1 for p in d.sessions if p.info.archived)
        # What tau counts (task_get drops the rows whose session is gone from
        # tau.db); the gone ones are still shown, counted apart.
        gone = sum(1 for p in d.sessions if p.info.gone)
        # tau also leaves out the sessions it cannot load (model_json).
        dropped = sum(1 for p in d.sessions if not p.info.gone and not p.info.tau_loads)
        counted = f"{len(d.sessions) - gone - dropped}"
        if gone:
            counted += f" + {gone} gone"
        if dropped:
            counted += f" + {dropped} unloadable"
        # tau's own wording: "Sessions (N)", or "Sessions (N, K live)".
        head = Text(f"Sessions ({counted}, {live} live)" if live else f"Sessions ({counted})", style="bold")
        bits = [f"sort: {self.sort}", "$: stored calls only"]
        if not self.show_archived:
            bits.append(f"{archived} archived hidden")
        if self.live_only:
            bits.append("live only")
        if self.needle:
            bits.append(f"filter: {self.needle}")
        head.append("   [" + ", ".join(bits) + "]")
        self.query_one("#sessions-title", TextLine).show(head)
        page = self.cursor // PAGE
        shown = visible[page * PAGE:(page + 1) * PAGE]
        grid = self.query_one("#panes", ItemGrid)
        cards = list(grid.query_children(SessionCard))
        now = self.now()
        for card, pane in zip(cards, shown):
            if card.pane != pane:
                card.set_pane(pane, now)
        if len(cards) > len(shown):
            for card in cards[len(shown):]:
                card.remove()
        elif len(shown) > len(cards):
            grid.mount_all([SessionCard(p, now) for p in shown[len(cards):]])
        note = self.query_one("#page-note", TextLine)
        if not visible:
            note.show(Text("No sessions" + (" match." if d.sessions else " recorded for this task.")))
        elif len(visible) > PAGE:
            note.show(Text(
                f"sessions {page * PAGE + 1}–{page * PAGE + len(shown)} of {len(visible)}: "
                "move past the last pane (or PgDn) for the next page; / or l narrows"))
        else:
            note.show("")
        note.display = not visible or len(visible) > PAGE
        self._page = page
        self.call_after_refresh(self._mark_cursor)

    def _mark_cursor(self) -> None:
        # Runs after a refresh: the screen may have been closed meanwhile.
        grids = self.query("#panes").results(ItemGrid)
        grid = next(iter(grids), None)
        if grid is None or not self.is_attached:
            return
        cards = list(grid.query_children(SessionCard))
        index = self.cursor % PAGE
        for i, card in enumerate(cards):
            card.set_class(i == index, "-cursor")
        if 0 <= index < len(cards):
            self.query_one("#panes-scroll", VerticalScroll).scroll_to_widget(
                cards[index], animate=False)

    def pane_at_cursor(self) -> str | None:
        """The session id under the cursor (it stays there across updates)."""
        if 0 <= self.cursor < len(self._visible):
            return self._visible[self.cursor].info.session_id
        return None

    # --- keys ---------------------------------------------------------------------------------

    def _columns(self) -> int:
        grid = self.query_one("#panes", ItemGrid)
        return max(1, grid.size.width // MIN_CARD_WIDTH)

    def action_move(self, rows: int, cols: int) -> None:
        if not self._visible:
            return
        step = rows * self._columns() + cols
        self.cursor = max(0, min(len(self._visible) - 1, self.cursor + step))
        self._cursor_session = self._visible[self.cursor].info.session_id
        if self.cursor // PAGE != self._page:
            self._render_panes()
        else:
            self._mark_cursor()

    def action_open(self) -> None:
        if not self._visible:
            return
        pane = self._visible[self.cursor]
        if pane.info.gone:
            self.notify(f"{one_line(pane.info.session_id, 60)} is gone from tau.db: no transcript "
                        "to show.", severity="warning", markup=False)
            return
        title = f"{self.label} {pane.info.role}"
        successor = pane.info.successor_id
        if not successor:
            self.dashboard.open_session(pane.info.session_id, title=title, host=self.host)
            return

        def chosen(choice: str | None) -> None:
            if choice == SUCCESSOR:
                self.dashboard.open_session(successor, title=f"{self.label} successor of "
                                            f"{one_line(pane.info.session_id, 24)}", host=self.host)
            elif choice == RETIRED:
                self.dashboard.open_session(pane.info.session_id, title=title, host=self.host)

        self.app.push_screen(SuccessorPrompt(pane.info.session_id, successor), callback=chosen)

    @on(Click, "SessionCard")
    def _clicked(self, event: Click) -> None:
        card = event.widget
        while card is not None and not isinstance(card, SessionCard):
            card = card.parent  # type: ignore[assignment]
        if isinstance(card, SessionCard):
            ids = [p.info.session_id for p in self._visible]
            if card.pane.info.session_id in ids:
                already = self._cursor_session == card.pane.info.session_id
                self.cursor = ids.index(card.pane.info.session_id)
                self._cursor_session = card.pane.info.session_id
                self._mark_cursor()
                if already or event.chain > 1:
                    self.action_open()

    def action_back(self) -> None:
        if self.query_one(FilterBox).close():
            self.needle = ""
            self.set_focus(None)
            return
        self.app.pop_screen()

    def action_filter(self) -> None:
        self.query_one(FilterBox).slash()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.set_focus(None)

    def action_live_only(self) -> None:
        self.live_only = not self.live_only

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.notify("Archived sessions " + ("shown" if self.show_archived else "hidden"), timeout=1.5)

    def action_cycle_sort(self) -> None:
        self.sort = PANE_SORTS[(PANE_SORTS.index(self.sort) + 1) % len(PANE_SORTS)]
