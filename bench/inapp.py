"""Measurements inside the app: `SessionTopApp` runs headless in this process.

A change is timed from the writer's ``t0`` (taken in the writer process just
before COMMIT) to the first screen refresh after the screen's widgets show it:
each data screen's ``apply`` is wrapped so that, right after the app hands it a
snapshot, the expectation is checked on the widgets; when it holds, a
``call_after_refresh`` callback (run by Textual once the compositor has
painted the next frame) takes the time. The painted frame itself
(``render_strips``) is then checked with the same rule, and a frame that does
not show the change is counted (``frame_misses``).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.ui.app import SessionTopApp
from tui.tau.store import Store
from tui.ui.widgets.session_card import SessionCard
from tui.ui.widgets.task_table import TaskTable

from .common import WriterProc, now, summary_ms
from .scenario import Change, Scenario
from .views import Expect, TextView, View

SIZE = (160, 50)


class WidgetView(View):
    """The target's texts, read from the widgets of a running app."""

    def __init__(self, screen: Any, task_id: int) -> None:
        self.screen = screen
        self.task_id = task_id

    def row(self, title_marker: str, task: int | None = None) -> str | None:
        for table in self.screen.query(TaskTable):
            try:
                cells = table.get_row(f"t:{self.task_id if task is None else task}")
            except Exception:  # noqa: BLE001 - not in the table
                return None
            return "  ".join(getattr(c, "plain", str(c)) for c in cells)
        return None

    def title(self) -> str | None:
        try:
            w = self.screen.query_one("#title")
        except Exception:  # noqa: BLE001 - not the task list
            return None
        content = w.content  # type: ignore[attr-defined]
        return getattr(content, "plain", str(content))

    def card(self, sid: str) -> list[str] | None:
        for card in self.screen.query(SessionCard):
            if card.pane.info.session_id == sid:
                content = card.content
                return getattr(content, "plain", str(content)).split("\n")
        return None

    def heading(self) -> str | None:
        try:
            w = self.screen.query_one("#sessions-title")
        except Exception:  # noqa: BLE001
            return None
        content = w.content  # type: ignore[attr-defined]
        return getattr(content, "plain", str(content))


def frame_lines(screen: Any) -> list[str]:
    """The characters of the screen as last painted (the compositor's frame)."""
    return [strip.text for strip in screen._compositor.render_strips()]


class PreSatisfied(Exception):
    """The screen already showed what a change was to show: the scenario is wrong."""


@dataclass(eq=False)
class Pending:
    expect: Expect
    future: asyncio.Future
    t0: float | None = None
    t_apply: float | None = None
    t_paint: float | None = None
    frame_ok: bool | None = None
    rechecks: int = 0


class Probe:
    """Watches the snapshots the app applies, for the pending expectations."""

    def __init__(self, app: SessionTopApp, task_id: int, *, verify_frames: bool = True) -> None:
        self.app = app
        self.task_id = task_id
        self.verify_frames = verify_frames
        self.pending: list[Pending] = []
        self._wrapped: weakref.WeakSet = weakref.WeakSet()
        self.on_apply: Callable[[Any], None] | None = None
        self.frame_misses = 0  # changes whose first refresh after apply did not show them yet
        self.frame_check_s: list[float] = []

    def attach(self, screen: Any) -> None:
        if screen in self._wrapped:
            return
        self._wrapped.add(screen)
        orig = screen.apply

        def apply(data: Any, status: Any, refresh: Any) -> None:
            orig(data, status, refresh)
            self._after_apply(screen)

        screen.apply = apply

    def _after_apply(self, screen: Any) -> None:
        if self.on_apply is not None:
            self.on_apply(screen)
        if not self.pending:
            return
        t = now()
        view = WidgetView(screen, self.task_id)
        for p in self.pending:
            if p.t_apply is None and p.expect.check(view):
                p.t_apply = t
                screen.call_after_refresh(self._painted, p, screen)

    def _painted(self, p: Pending, screen: Any) -> None:
        """After a refresh: is the change in the painted frame? If not yet (a
        widget repaints a refresh later, e.g. a rebuilt table), look again
        after the next refresh."""
        t = now()
        if p.future.done():
            return
        if self.verify_frames:
            tf = now()
            ok = p.expect.check(TextView(frame_lines(screen)))
            self.frame_check_s.append(now() - tf)
            if not ok:
                p.rechecks += 1
                if p.rechecks == 1:
                    self.frame_misses += 1
                if screen.is_attached:
                    screen.set_timer(0.002, lambda: screen.call_after_refresh(self._painted, p, screen))
                return
            p.frame_ok = True
        p.t_paint = t
        if p in self.pending:
            self.pending.remove(p)
        p.future.set_result(None)

    def expect(self, expect: Expect, *, may_hold: bool = False) -> Pending:
        """Start waiting for ``expect``. A measured change must not hold before
        it is committed (``PreSatisfied``); a setup step may (``may_hold``)."""
        screen = self.app.screen
        holds = expect.check(WidgetView(screen, self.task_id))
        if holds and not may_hold:
            raise PreSatisfied(expect)
        p = Pending(expect, asyncio.get_running_loop().create_future())
        self.pending.append(p)
        if holds:
            p.t_apply = now()
            screen.call_after_refresh(self._painted, p, screen)
        return p

    def drop(self, p: Pending) -> None:
        if p in self.pending:
            self.pending.remove(p)


async def wait_until(cond: Callable[[], bool], timeout: float, step: float = 0.002) -> bool:
    end = now() + timeout
    while now() < end:
        if cond():
            return True
        await asyncio.sleep(step)
    return cond()


@dataclass
class Timed:
    screen: str
    kind: str
    latency: float | None  # seconds, None = timed out
    apply_latency: float | None = None
    frame_ok: bool | None = None
    invalid: bool = False  # the expectation held before the commit: not measured
    t0: float | None = None  # when the change was made (monotonic s)


@dataclass
class RunResult:
    changes: list[Timed] = field(default_factory=list)
    frame_misses: int = 0
    first_screen_s: float | None = None
    settled_s: float | None = None  # the background reads after the first screen, done
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        def pick(pred: Callable[[Timed], bool]) -> dict[str, Any]:
            sel = [c for c in self.changes if pred(c)]
            ok = [c.latency for c in sel if c.latency is not None]
            out = summary_ms(ok, timeouts=sum(1 for c in sel if c.latency is None and not c.invalid))
            bad = sum(1 for c in sel if c.invalid)
            if bad:
                out["invalid"] = bad
            return out

        out: dict[str, Any] = {"all": pick(lambda c: True),
                               "list": pick(lambda c: c.screen == "list"),
                               "task": pick(lambda c: c.screen == "task"),
                               "by_kind": {}, "frame_misses": self.frame_misses}
        for screen in ("list", "task"):
            for kind in sorted({c.kind for c in self.changes if c.screen == screen}):
                out["by_kind"][f"{screen}/{kind}"] = pick(
                    lambda c, s=screen, k=kind: c.screen == s and c.kind == k)
        applied = [c.apply_latency for c in self.changes if c.apply_latency is not None]
        out["apply_only"] = summary_ms(applied)
        if self.first_screen_s is not None:
            out["first_screen_ms"] = round(self.first_screen_s * 1000, 1)
        if self.settled_s is not None:
            out["settled_ms"] = round(self.settled_s * 1000, 1)
        if self.notes:
            out["notes"] = self.notes
        return out


async def _timed(probe: Probe, writer: WriterProc, change: Change, timeout: float) -> Timed:
    try:
        p = probe.expect(change.expect)
    except PreSatisfied:
        reply = await writer.do(change.op, **change.args)
        if change.after is not None:
            change.after(reply)
        return Timed(change.screen, change.kind, None, invalid=True)
    reply = await writer.do(change.op, **change.args)
    if change.after is not None:
        change.after(reply)
    p.t0 = reply["t0"]
    try:
        await asyncio.wait_for(asyncio.shield(p.future), timeout)
    except asyncio.TimeoutError:
        probe.drop(p)
        return Timed(change.screen, change.kind, None)
    assert p.t_paint is not None and p.t_apply is not None
    return Timed(change.screen, change.kind, p.t_paint - p.t0, p.t_apply - p.t0, p.frame_ok, t0=p.t0)


async def _setup(probe: Probe, writer: WriterProc, sc: Scenario, timeout: float) -> bool:
    p = probe.expect(sc.ready_expect(), may_hold=True)
    for op, args in sc.setup_ops():
        await writer.do(op, **args)
    try:
        await asyncio.wait_for(asyncio.shield(p.future), timeout)
        return True
    except asyncio.TimeoutError:
        probe.drop(p)
        return False


def target_sessions(data_dir: Path, task_id: int) -> int:
    conn = sqlite3.connect(f"file:{data_dir / 'tasks.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM task_sessions WHERE task_id=?", (task_id,)).fetchone()[0]
    finally:
        conn.close()


def task_count(data_dir: Path) -> int:
    """Tasks in the store now (the list's title counts them)."""
    conn = sqlite3.connect(f"file:{data_dir / 'tasks.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    finally:
        conn.close()


def scenario(meta: dict[str, Any], data_dir: Path, sid_base: int) -> Scenario:
    """The latency runs' scenario on the store as it is now."""
    task = int(meta["target_task"])
    return Scenario(task=task, sid=meta["target_session"], sessions=target_sessions(data_dir, task),
                    sid_base=sid_base, tasks=task_count(data_dir))


async def latency_run(meta: dict[str, Any], data_dir: Path, runtime_dir: Path, writer: WriterProc, *,
                      poll: float | None, n_list: int, n_task: int, sid_base: int,
                      path: str = "disk", timeout: float = 30.0,
                      log: Callable[[str], None] = print, seed: int = 5,
                      raw: list[Timed] | None = None) -> dict[str, Any]:
    """Change-to-screen latency in a headless app, on the task list then on the
    task screen, of changes by ``path``: "disk" (commits) or "socket" (phase
    changes in tau's server memory, pushed to the app's subscription)."""
    rng = random.Random(seed)
    task = int(meta["target_task"])
    sc = scenario(meta, data_dir, sid_base)
    res = RunResult()
    app = SessionTopApp(Store(data_dir, runtime_dir), poll=poll)
    t_start = now()

    def gap() -> float:
        # Under polling, a random phase against the poll clock (else every change
        # would land just after a tick); with events, a short pause.
        return rng.uniform(0.05, 0.05 + poll) if poll else rng.uniform(0.03, 0.15)

    async with app.run_test(size=SIZE) as pilot:
        probe = Probe(app, task)
        if not await wait_until(lambda: app.applied >= 1, 120):
            raise RuntimeError("the app never showed the task list")
        res.first_screen_s = now() - t_start
        # What the first screen did without (a large store's old links, its
        # queued tasks' sessions, usage sums) is read in the background: the
        # changes are timed once it is, as the operator's would be a moment later.
        await wait_until(lambda: not app.store.usage_pending() and not app._counting, 120,  # noqa: SLF001
                         step=0.05)
        res.settled_s = now() - t_start
        probe.attach(app.screen)
        if not await _setup(probe, writer, sc, timeout + (poll or 0)):
            res.notes.append("setup change never appeared on the task list")
        for change in sc.list_changes(n_list, path):
            res.changes.append(await _timed(probe, writer, change, timeout + (poll or 0)))
            await asyncio.sleep(gap())
        if n_task:
            # --- the task screen ---
            app.open_task(task)
            ok = await wait_until(lambda: type(app.screen).__name__ == "TaskScreen", 10)
            screen = app.screen
            probe.attach(screen)
            ok = ok and await wait_until(
                lambda: WidgetView(screen, task).card(sc.sid) is not None, timeout + (poll or 0) + 30)
            if not ok:
                res.notes.append("the task screen never showed the target session's pane")
            await pilot.pause()
            for change in sc.task_changes(n_task, path):
                res.changes.append(await _timed(probe, writer, change, timeout + (poll or 0)))
                await asyncio.sleep(gap())
        res.frame_misses = probe.frame_misses
    for op, args in sc.cleanup_ops():
        await writer.do(op, **args)
    out = res.summary()
    out["path"] = path
    if raw is not None:  # each change, for a breakdown by stage (bench.profile)
        raw.extend(res.changes)
    return out
