"""The status line: how liveness is known, how the screen is kept fresh, what is wrong.

And tau's rate-limit windows when it pushes them ("5h 72% · resets 14:00 · 7d
31%", the fullest coloured as it nears 100%, with its age): nothing at all
when it sends none (an install without an Anthropic OAuth login).
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from .. import format as fmt
from ...model.snapshots import RateLimits, ServerStatus, StoreStatus
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


#: Utilization (%) from which a window is drawn as a warning, then as bad.
WARN_PCT, BAD_PCT = 75.0, 90.0


def usage_tone(pct: float) -> str:
    return "bad" if pct >= BAD_PCT else "warn" if pct >= WARN_PCT else "ok"


def reset_words(at: float | None, now: float) -> str:
    """A reset time as the operator reads it: "14:00" today or within a day,
    else "Tue 14:00"."""
    if at is None:
        return ""
    local = time.localtime(at)
    if at - now < 86_400 - 3600:
        return time.strftime("%H:%M", local)
    return time.strftime("%a %H:%M", local)


#: How much of the push the status line says: all of it; the 5-hour and 7-day
#: windows (the others only when nearly full) with the reset and the age; the
#: windows alone.
FULL, MEDIUM, SHORT = "full", "medium", "short"


def limits_text(limits: RateLimits, now: float, styles: dict[str, str], *, fit: str = FULL) -> Text:
    """"5h 72% · resets 14:00 · 7d 31% · opus 7d 12% (2m ago)": each window,
    the first's reset, extra usage when on, and how old the push is; less as
    ``fit`` says."""
    short = fit == SHORT
    windows = limits.windows
    if fit != FULL:
        windows = tuple(w for i, w in enumerate(windows) if i < 2 or w.utilization >= WARN_PCT)
    t = Text()
    for i, w in enumerate(windows):
        if i:
            t.append(" · ")
        t.append(f"{w.label} ")
        t.append(f"{w.utilization:.0f}%", style=styles.get(usage_tone(w.utilization), ""))
        if i == 0 and not short and w.resets_at is not None:
            t.append(f" · resets {reset_words(w.resets_at, now)}")
    if limits.extra_enabled and fit == FULL:
        used = "" if limits.extra_used is None else f" ${limits.extra_used:,.0f}"
        cap = "" if limits.extra_limit is None else f" of ${limits.extra_limit:,.0f}"
        t.append(f"{' · ' if limits.windows else ''}extra on{used}{cap}")
    if not short:  # in minutes: the line is not redrawn every second for it
        age = now - limits.received_at
        t.append(" (just now)" if age < 60 else f" ({fmt.age(limits.received_at, now)} ago)",
                 style=styles.get("dim", ""))
    return t


class StatusLine(Vertical):
    """Two lines at the foot of every screen: the state of the feed, then problems."""

    COMPONENT_CLASSES = {"status--ok", "status--warn", "status--bad", "status--dim"}

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

    def _main_text(self, status: StoreStatus, refresh: RefreshState, now: float, width: int) -> Text:
        """Where liveness comes from, tau's rate limits, how the screen is kept
        fresh; the rate limits keep their place when room is short, the
        refresh's words give way first."""
        styles = {name: str(self.get_component_rich_style(f"status--{name}", partial=True))
                  for name in ("ok", "warn", "bad", "dim")}
        limits = status.limits
        full = self._refresh_words(refresh, now, short=False)
        main = Text(no_wrap=True, overflow="ellipsis")
        main.append(hosts_text(status.hosts) if status.hosts else server_text(status.server))
        main.append("  │  ")
        if limits is None:
            main.append(full)
            return main
        usage = limits_text(limits, now, styles)
        room = width - main.cell_len  # (the path gives way to them, its separator too)
        if width and usage.cell_len + 5 + len(full) > room:
            full = self._refresh_words(refresh, now, short=True)
            for fit in (MEDIUM, SHORT):
                if usage.cell_len + 5 + len(full) <= room:
                    break
                usage = limits_text(limits, now, styles, fit=fit)
        main.append(full)
        main.append("  │  ")
        main.append_text(usage)
        return main

    @staticmethod
    def _refresh_words(refresh: RefreshState, now: float, *, short: bool) -> str:
        if refresh.mode == "paused":
            words = "⏸ PAUSED" if short else "⏸ PAUSED (p resumes)"
        elif refresh.mode == "polling":
            words = f"⟳ {refresh.poll_seconds:g}s" if short else f"⟳ polling every {refresh.poll_seconds:g}s"
        else:
            words = "⟳" if short else "⟳ watching for changes"
        if refresh.last_read is not None and not short:
            # The real time since the last read (paused, that is how old the
            # screen is). In 5 s steps in the first minute, then minutes: a
            # quiet store redraws this every 5 s, then once a minute, not
            # every second.
            since = now - refresh.last_read
            words += ("  updated just now" if since < 5 else
                      f"  updated {int(since) // 5 * 5}s ago" if since < 60 else
                      f"  updated {fmt.age(refresh.last_read, now)} ago")
        return words

    def tick(self, now: float) -> None:
        status, refresh = self._status, self._refresh
        if status is None or refresh is None or not self.is_attached or len(self.children) < 2:
            return  # not composed yet, or being torn down
        line = self.query_one("#status-main", TextLine)
        main = self._main_text(status, refresh, now, line.content_size.width)
        main.append("  │  ")
        # The end of the path is the telling part: keep it, shorten the start.
        path = one_line(status.data_dir, 400)
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
