"""The cells of the task list's rows: what each column says of a task.

Pure functions of a `TaskRow`, the clock and a style lookup (the table's
component classes), so a row is rebuilt only when its task changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text

from .. import format as fmt
from ...model.groups import Group
from ...model.snapshots import TaskRow
from ...notify.marks import StalledRow
from ...model.text import one_line

Columns = tuple[tuple[str, str, int], ...]
Cells = tuple[Text, ...]
Style = Callable[[str], str]  # a tone ("live", "chat", …) to a rich style

#: (key, label, width); the title takes what the others leave.
WIDE_COLUMNS: Columns = (
    ("live", " ", 1),
    ("state", "State", 14),
    ("id", "#", 5),
    ("prio", "P", 2),
    ("title", "Title", 0),
    ("project", "Project", 10),
    ("sessions", "Sessions", 15),
    ("phase", "Phase", 16),
    ("age", "Last", 6),
)
#: Below this width the project and priority columns give way to the title.
NARROW_BELOW = 110
NARROW_COLUMNS: Columns = (
    ("live", " ", 1),
    ("state", "State", 13),
    ("id", "#", 4),
    ("title", "Title", 0),
    ("sessions", "Sessions", 13),
    ("phase", "Phase", 15),
    ("age", "Last", 4),
)
#: Below this width (60 columns, a split pane) only what tells tasks apart stays.
TINY_BELOW = 72
TINY_COLUMNS: Columns = (
    ("live", " ", 1),
    ("state", "State", 9),
    ("id", "#", 4),
    ("title", "Title", 0),
    ("phase", "Phase", 11),
    ("age", "Last", 4),
)
#: From this width on, the cut columns get room (phase words, projects, sessions).
WIDER_FROM = 160
WIDER_COLUMNS: Columns = (
    ("live", " ", 1),
    ("state", "State", 14),
    ("id", "#", 5),
    ("prio", "P", 2),
    ("title", "Title", 0),
    ("project", "Project", 20),
    ("sessions", "Sessions", 18),
    ("phase", "Phase", 28),
    ("age", "Last", 6),
)
MIN_TITLE = 12
#: The live column: a live working session, else only a live chat.
LIVE_DOT = "●"
CHAT_DOT = "○"
#: A live session of the task is stalled (quiet past its threshold): a flag only.
STALL_MARK = "⚠"


#: With hosts (issue 23), the host column after the id, by column set: its
#: width, and what gives it room (a column dropped, or narrowed to a width).
HOST_ROOM: dict[Columns, tuple[int, dict[str, int]]] = {
    TINY_COLUMNS: (5, {"phase": 9}),
    NARROW_COLUMNS: (8, {"sessions": 0}),
    WIDE_COLUMNS: (8, {"phase": 14}),
    WIDER_COLUMNS: (14, {}),
}


def with_host(cols: Columns) -> Columns:
    """``cols`` with the host column, room made for it."""
    width, room = HOST_ROOM[cols]
    out: list[tuple[str, str, int]] = []
    for key, label, w in cols:
        w = room.get(key, w)
        if w or key == "title":
            out.append((key, label, w))
        if key == "id":
            out.append(("host", "Host", width))
    return tuple(out)


def columns_for(width: int, hosts: bool = False) -> tuple[Columns, int]:
    """The columns that fit ``width``, and the title's width among them
    (``hosts``: rows of several hosts, each saying its host in a column)."""
    if width < TINY_BELOW:
        cols = TINY_COLUMNS
    elif width < NARROW_BELOW:
        cols = NARROW_COLUMNS
    elif width < WIDER_FROM:
        cols = WIDE_COLUMNS
    else:
        cols = WIDER_COLUMNS
    if hosts:
        cols = with_host(cols)
    fixed = sum(w + 2 for key, _, w in cols if key != "title") + 2 + 1  # padding, scrollbar
    return cols, max(MIN_TITLE, width - fixed)


def live_cell(t: TaskRow, style: Style) -> Text:
    """tau's has_live_session, with a live chat (creator, interactive,
    contributor) told apart from the task's own working sessions; a stalled
    session marks it instead."""
    if isinstance(t, StalledRow):
        return Text(STALL_MARK, style=style("warn"))
    if t.live_count:
        return Text(LIVE_DOT, style=style("live"))
    if t.chat_live:
        return Text(CHAT_DOT, style=style("chat"))
    return Text(" ")


def sessions_cell(t: TaskRow, style: Style) -> Text:
    """"4 (2 live)" for working sessions; a live chat marked apart."""
    cell = Text(f"{t.session_count}", no_wrap=True, overflow="ellipsis")
    if t.live_count and t.chat_live:
        cell.append(f" ({t.live_count} live")
        cell.append("+chat", style=style("chat"))
        cell.append(")")
    elif t.live_count:
        cell.append(f" ({t.live_count} live)")
    elif t.chat_live:
        cell.append(" (chat live)", style=style("chat"))
    else:
        cell.stylize(style("dim"))
    if t.queued:  # messages waiting for a session's next turn
        cell.append(f" ✉{t.queued}", style=style("warn"))
    return cell


def phase_cell(t: TaskRow, style: Style) -> Text:
    """The busiest phase of the working sessions; else what the task waits
    on; else a live chat's phase, marked as the chat's (○, the chat colour).

    A glyph per phase, not a spinner: an idle screen must not redraw the table
    every second (the panes of one task do spin)."""
    if isinstance(t, StalledRow):
        return Text(f"{STALL_MARK} stalled {one_line(t.busiest_phase or t.chat_phase or '', 12)}",
                    style=style("warn"), no_wrap=True, overflow="ellipsis")
    if t.busiest_phase:
        glyph = fmt.PHASE_GLYPH.get(t.busiest_phase, "•")
        return Text(f"{glyph} {one_line(t.busiest_phase, 40)}", style=style("busy"),
                    no_wrap=True, overflow="ellipsis")
    if t.waits:  # tau's scheduler's word on why it waits
        return Text("⏳ " + one_line(t.waits[0], 40), style=style("warn"), no_wrap=True, overflow="ellipsis")
    if t.blocked_by:
        return Text("waits on " + ",".join(f"#{b}" for b in t.blocked_by[:3]), style=style("warn"))
    if t.chat_phase:  # marked as the chat's: its dot, its colour
        return Text(f"{CHAT_DOT} {one_line(t.chat_phase, 40)}", style=style("chat"),
                    no_wrap=True, overflow="ellipsis")
    if t.queued and t.queued_since is not None:  # a clock time: the cell never ticks
        since = time.strftime("%H:%M", time.localtime(t.queued_since / 1000))
        return Text(f"✉ since {since}", style=style("warn"), no_wrap=True, overflow="ellipsis")
    return Text("")


def age_cell(t: TaskRow, now: float) -> Text:
    """The Last column: the newest activity of its sessions, else its last
    change, in minutes as tau's own session picker has it (TAU.md §8): "<1m"
    in the first minute. In seconds, every busy row of a large list moved
    each second: noise to read past, and a repaint of the whole screen."""
    at = t.last_activity if t.last_activity is not None else t.updated_at / 1000
    text = fmt.age(at, now)
    return Text("<1m" if text.endswith("s") and text[:-1].isdigit() else text, justify="right")


def task_cells(t: TaskRow, now: float, columns: Columns, title_width: int, style: Style) -> Cells:
    """One task's row, a cell per column of ``columns``."""
    state = Text(f"{fmt.state_glyph(t.state)} {one_line(t.state, 11)}", style=style(fmt.state_tone(t.state)))
    if t.held:
        state = Text(f"‖ {one_line(t.state, 11)}", style=style("held"))
    title = Text(one_line(t.title, title_width), no_wrap=True, overflow="ellipsis")
    if fmt.is_terminal(t.state):
        title.stylize(style("dim"))
    cells = {
        "live": live_cell(t, style),
        "state": state,
        "id": Text(str(t.id), justify="right"),
        "prio": Text(str(t.priority) if t.priority else "", justify="right"),
        "title": title,
        "project": Text(one_line(t.project, 40), style=style("dim")),
        "sessions": sessions_cell(t, style),
        "phase": phase_cell(t, style),
        "age": age_cell(t, now),
    }
    if t.host:  # rows of several hosts (the host column is shown only then)
        cells["host"] = Text(one_line(t.host, 40), style=style("muted"), no_wrap=True, overflow="ellipsis")
    return tuple(cells[key] for key, _, _ in columns)


def heading_cells(group: Group, style: Style, folded: bool = False) -> Cells:
    """A group's heading: its name, its count, and its note (tau's slots);
    ▸ when the operator folded it (Enter on it unfolds), else ▾."""
    label = f"{'▸' if folded else '▾'}  {group.heading} ({len(group.tasks) + group.folded:,})"
    if group.note:
        label += f" · {group.note}"
    return (Text(label, style=style("heading"), no_wrap=True),)  # one cell: it spans the row


def fold_cells(group: Group, unfolded: bool, columns: Columns, style: Style) -> Cells:
    text = "▴ fold" if unfolded else f"▸ {group.folded} more (Enter to show)"
    return tuple(Text(text, style=style("dim")) if key == "title" else Text("")
                 for key, _, _ in columns)
