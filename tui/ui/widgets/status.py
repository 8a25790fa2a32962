"""The status line: how liveness is known, how the screen is kept fresh, what is wrong."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from .. import format as fmt
from ...model.snapshots import ServerStatus, StoreStatus
from ...model.text import one_line
from ...model.queries import RefreshState
from .host_status import host_lines, hosts_text
from .text_line import TextLine


def server_text(server: ServerStatus) -> str:
    """Where liveness comes from, in the operator's words."""
    if server.state == "up":
        return "● live from tau server"
    if server.state == "draining":
        return "◐ tau server shutting down: live until its turns finish"
    if server.state == "starting":
        return "◌ asking the tau server…: phases shown are the persisted ones"
    if server.state == "down":
        return "○ tau server not running: nothing is live (phases shown are the last persisted)"
    return f"○ {one_line(server.detail, 120)}: phases shown are the persisted ones"


class StatusLine(Vertical):
    """Two lines at the foot of every screen: the state of the feed, then problems."""

    def __init__(self) -> None:
        super().__init__()
        self._status: StoreStatus | None = None
        self._refresh: RefreshState | None = None
        self._shown_main: Text | None = None
        self._shown_problem: Text | None = None

    def compose(self) -> ComposeResult:
        # A line of fixed height: "updated 12s ago" moving each second is a
        # repaint of this line, not a layout pass of the whole screen.
        yield TextLine(id="status-main")
        yield Static(id="status-problem")

    def show(self, status: StoreStatus, refresh: RefreshState, now: float) -> None:
        self._status, self._refresh = status, refresh
        self.tick(now)

    def tick(self, now: float) -> None:
        status, refresh = self._status, self._refresh
        if status is None or refresh is None or not self.is_attached or len(self.children) < 2:
            return  # not composed yet, or being torn down
        main = Text(no_wrap=True, overflow="ellipsis")
        main.append(hosts_text(status.hosts) if status.hosts else server_text(status.server))
        main.append("  │  ")
        if refresh.mode == "paused":
            main.append("⏸ PAUSED (p resumes)")
        elif refresh.mode == "polling":
            main.append(f"⟳ polling every {refresh.poll_seconds:g}s")
        else:
            main.append("⟳ watching for changes")
        if refresh.last_read is not None:
            # The real time since the last read (paused, that is how old the
            # screen is). In 5 s steps in the first minute, then minutes: a
            # quiet store redraws this every 5 s, then once a minute, not
            # every second.
            since = now - refresh.last_read
            main.append("  updated just now" if since < 5 else
                        f"  updated {int(since) // 5 * 5}s ago" if since < 60 else
                        f"  updated {fmt.age(refresh.last_read, now)} ago")
        main.append("  │  ")
        # The end of the path is the telling part: keep it, shorten the start.
        path = one_line(status.data_dir, 400)
        line = self.query_one("#status-main", TextLine)
        room = line.content_size.width - main.cell_len
        if len(path) <= room or not line.content_size.width:
            main.append(path)
        elif room >= 8:
            main.append("…" + path[-(room - 1):])
        else:
            main.right_crop(5)  # no room for the path: drop its separator too
        if main != self._shown_main:
            self._shown_main = main
            line.show(main)
        problem = self.query_one("#status-problem", Static)
        lines: list[str] = []
        if refresh.error:
            stale = ""
            if refresh.stale_since is not None:
                stale = f"stale since {fmt.age(refresh.stale_since, now)} ago: "
            lines.append(f"⚠ {stale}{one_line(refresh.error, 200)}")
        if status.error:
            lines.append(f"⚠ {one_line(status.error, 200)}")
        lines.extend(host_lines(status.hosts, now))  # several hosts: each one not simply live
        lines.extend(f"ⓘ {one_line(n, 200)}" for n in status.notices)
        server = status.server
        if server.capped:
            lines.append(f"ⓘ {server.wanted} sessions may be live; following the newest "
                         f"{server.watching} (the cap): the rest show their persisted phase")
        if server.problem:
            lines.append(f"⚠ tau server: {one_line(server.problem, 200)} (last good data kept)")
        problem_text = Text("\n".join(lines))
        if problem_text != self._shown_problem:
            self._shown_problem = problem_text
            problem.update(problem_text)
        problem.set_class(bool(lines), "-shown")
        problem.set_class(bool(refresh.error or status.error), "-error")
        self.set_class(status.server.up, "-server-up")
        self.set_class(refresh.mode == "paused", "-paused")
