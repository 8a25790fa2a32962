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
import re
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

from .common import WriterProc, cpu_seconds, loadavg, now, status_kb, summary_ms
from .scenario import Change, Scenario
from .views import Expect, TextView, View

SIZE = (160, 50)


class WidgetView(View):
    """The target's texts, read from the widgets of a running app."""

    def __init__(self, screen: Any, task_id: int) -> None:
        self.screen = screen
        self.task_id = task_id

    def row(self, title_marker: str) -> str | None:
        for table in self.screen.query(TaskTable):
            try:
                cells = table.get_row(f"t:{self.task_id}")
            except Exception:  # noqa: BLE001 - not in the table
                return None
            return "  ".join(getattr(c, "plain", str(c)) for c in cells)
        return None

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
        if self.notes:
            out["notes"] = self.notes
        return out


async def _timed(probe: Probe, writer: WriterProc, change: Change, timeout: float) -> Timed:
    try:
        p = probe.expect(change.expect)
    except PreSatisfied:
        await writer.do(change.op, **change.args)
        return Timed(change.screen, change.kind, None, invalid=True)
    reply = await writer.do(change.op, **change.args)
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
    sc = Scenario(task=task, sid=meta["target_session"],
                  sessions=target_sessions(data_dir, task), sid_base=sid_base)
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


# --- opening a big transcript ---------------------------------------------------------


def newest_message_id(data_dir: Path, sid: str) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{data_dir / 'tau.db'}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT MAX(id), COUNT(*) FROM messages WHERE session_id=?", (sid,)).fetchone()
        return int(row[0] or 0), int(row[1] or 0)
    finally:
        conn.close()


async def open_session_run(data_dir: Path, runtime_dir: Path, sid: str, *, repeats: int = 5,
                           timeout: float = 60.0) -> dict[str, Any]:
    """Time from ``app.open_session`` to the newest message painted, in a fresh app
    (so the store's caches are cold; the OS page cache is warm). Also a second
    open of the same session in the same app (store caches warm)."""
    newest, count = newest_message_id(data_dir, sid)
    marker = f"#{newest}"
    cold: list[float] = []
    warm: list[float] = []
    timeouts = 0
    for _ in range(repeats):
        app = SessionTopApp(Store(data_dir, runtime_dir))
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(lambda: app.applied >= 1, 120)
            await pilot.pause()
            for bucket in (cold, warm):
                t0 = now()
                app.open_session(sid)

                def shown() -> bool:
                    scr = app.screen
                    if type(scr).__name__ != "TranscriptScreen" or getattr(scr, "last_id", None) != newest:
                        return False
                    return TextView(frame_lines(scr)).contains(marker)

                # Check the painted frame after each refresh until the newest message shows.
                end = t0 + timeout
                seen = None
                while now() < end:
                    scr = app.screen
                    if type(scr).__name__ == "TranscriptScreen" and getattr(scr, "last_id", None) == newest:
                        await scr.wait_for_refresh()
                        t = now()
                        if shown():
                            seen = t
                            break
                    await asyncio.sleep(0.001)
                if seen is None:
                    timeouts += 1
                else:
                    bucket.append(seen - t0)
                app.pop_screen()
                await pilot.pause()
    return {"session": sid, "messages": count, "cold_open": summary_ms(cold, timeouts=timeouts),
            "warm_open": summary_ms(warm)}


# --- sustained load -------------------------------------------------------------------


async def load_run(meta: dict[str, Any], data_dir: Path, runtime_dir: Path, writer: WriterProc, *,
                   rate: float = 100.0, seconds: float = 30.0, marker_every: int = 10,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    """``rate`` commits a second for ``seconds`` while the task list is on screen.

    Every ``marker_every``-th commit retitles the target task ``LDnnnnn``; a
    marker counts as shown when the row shows it or a later one (the screen
    has caught up past it). CPU and RSS of this process (the app, plus the
    small cost of the probe) are sampled every second.
    """
    task = int(meta["target_task"])
    app = SessionTopApp(Store(data_dir, runtime_dir))
    t0_of: dict[int, float] = {}
    shown_at: dict[int, float] = {}
    state = {"seen": 0}
    pat = re.compile(r"LD(\d{5})")
    samples: list[dict[str, float]] = []
    async with app.run_test(size=SIZE) as pilot:
        probe = Probe(app, task, verify_frames=False)
        await wait_until(lambda: app.applied >= 1, 120)
        probe.attach(app.screen)

        def on_apply(screen: Any) -> None:
            row = WidgetView(screen, task).row("")
            m = pat.search(row or "")
            if m and int(m.group(1)) > state["seen"]:
                seq = int(m.group(1))
                state["seen"] = seq
                screen.call_after_refresh(painted, seq)

        def painted(seq: int) -> None:
            t = now()
            for k in range(1, seq + 1):
                shown_at.setdefault(k, t)

        probe.on_apply = on_apply
        await pilot.pause()
        await asyncio.sleep(1.0)
        cpu0, t_begin = cpu_seconds(), now()
        rss0 = status_kb()["VmRSS"]
        await writer.send("load", rate=rate, seconds=seconds, task=task, marker_every=marker_every,
                          prefix="LD")
        summary: dict[str, Any] = {}

        async def sampler() -> None:
            while True:
                await asyncio.sleep(1.0)
                samples.append({"t": now() - t_begin, "cpu": cpu_seconds(), "rss_kb": status_kb()["VmRSS"]})

        sampling = asyncio.create_task(sampler())
        try:
            while True:
                msg = await writer.line()
                if msg.get("done"):
                    summary = msg
                    break
                t0_of[int(msg["seq"])] = float(msg["t0"])
            last = summary.get("last_seq", 0)
            await wait_until(lambda: state["seen"] >= last and last in shown_at, 60, step=0.01)
        finally:
            sampling.cancel()
        cpu1, t_end = cpu_seconds(), now()
        rss1 = status_kb()["VmRSS"]
    lat = {k: shown_at[k] - t0 for k, t0 in t0_of.items() if k in shown_at}
    seqs = sorted(lat)
    third = max(1, len(seqs) // 3)
    first = [lat[k] for k in seqs[:third]]
    lastt = [lat[k] for k in seqs[-third:]]
    busy = t_end - t_begin
    cpu_series = [(s["t"], s["cpu"]) for s in samples]
    return {
        "rate_asked": rate, "writer": {k: summary.get(k) for k in ("commits", "seconds", "rate",
                                                                   "late_max_ms", "kinds")},
        "markers": len(t0_of), "markers_shown": len(lat),
        "latency": summary_ms(list(lat.values()), timeouts=len(t0_of) - len(lat)),
        "p50_first_third_ms": summary_ms(first).get("p50"),
        "p50_last_third_ms": summary_ms(lastt).get("p50"),
        "cpu_percent_of_core": round(100 * (cpu1 - cpu0) / busy, 1) if busy > 0 else None,
        "rss_start_mb": round(rss0 / 1024, 1), "rss_end_mb": round(rss1 / 1024, 1),
        "rss_max_mb": round(max([s["rss_kb"] for s in samples] + [rss0, rss1]) / 1024, 1),
        "rss_series_mb": [round(s["rss_kb"] / 1024, 1) for s in samples],
        "cpu_series_s": [round(c, 2) for _, c in cpu_series],
        "loadavg_after": loadavg(),
    }
