"""The demo's pace: a newcomer can open a running session and watch a turn.

The simulator's own thread loop runs here on a simulated clock (every wait
moves it on at once, `tests.test_demo.SimulatedTime`), so what is measured is
the loop's pace, the same on any machine, however loaded: at speed 1 a turn
lasts tens of seconds, a task takes minutes, and the task list (grouped and
sorted as the dashboard shows it, newest activity first) does not reorder
under the operator's eyes every moment; ``--speed`` scales it all.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_demo import NOW, SimulatedStop, SimulatedTime
from tui.demo import DemoFleet
from tui.model.groups import group_tasks
from tui.model.snapshots import TaskRow


def list_order(data: Path) -> list[int]:
    """The task list as the dashboard groups and sorts it by default: tau's
    buckets, newest activity first (a task's newest session message, TAU.md §6.1)."""
    tau, tasks = sqlite3.connect(data / "tau.db"), sqlite3.connect(data / "tasks.db")
    try:
        newest = dict(tau.execute("SELECT session_id, MAX(created_at) FROM messages GROUP BY session_id"))
        links: dict[int, list[str]] = {}
        for tid, sid in tasks.execute("SELECT task_id, session_id FROM task_sessions"):
            links.setdefault(tid, []).append(sid)
        blocked: dict[int, list[int]] = {}
        for src, dst in tasks.execute("SELECT r.from_task, r.to_task FROM task_relations r JOIN tasks t"
                                      " ON t.id = r.to_task WHERE r.relation = 'depends_on'"
                                      " AND t.state NOT IN ('merged', 'closed')"):
            blocked.setdefault(src, []).append(dst)
        rows = []
        for tid, state, held, created, updated in tasks.execute(
                "SELECT id, state, held, created_at, updated_at FROM tasks"):
            acts = [newest[s] for s in links.get(tid, ()) if s in newest]
            rows.append(TaskRow(id=tid, title="", state=state, priority=0, project="", parent_id=None,
                                held=bool(held), created_at=created, updated_at=updated, session_count=0,
                                live_count=0, busiest_phase=None,
                                last_activity=max(acts) // 1000 if acts else None,
                                blocked_by=tuple(blocked.get(tid, ()))))
        return [t.id for g in group_tasks(rows) for t in g.tasks]
    finally:
        tau.close()
        tasks.close()


def simulate(tmp: Path, monkeypatch: pytest.MonkeyPatch, seconds: float, speed: float,
             every_second: Callable[[DemoFleet, float], None]) -> DemoFleet:
    """Run the fleet's thread loop for ``seconds`` simulated seconds; call
    ``every_second(fleet, t)`` once per simulated second."""
    clock = SimulatedTime(seconds)
    monkeypatch.setattr("tui.demo.fleet.time", clock)
    fleet = DemoFleet(tmp, speed=speed, clock=lambda: int(NOW + clock.now * 1000))
    fleet.start(run_thread=False)
    stop = SimulatedStop(clock)
    due = [1.0]

    def wait(timeout: float) -> bool:
        over = SimulatedStop.wait(stop, timeout)
        if clock.now >= due[0]:
            due[0] += 1.0
            every_second(fleet, clock.now)
        return over

    stop.wait = wait  # type: ignore[method-assign]
    fleet._stop = stop  # type: ignore[assignment]  # noqa: SLF001
    try:
        fleet._run()  # noqa: SLF001 - the thread's loop, here
        assert fleet.error is None, fleet.error
    finally:
        fleet.stop()
    return fleet


def turn_lengths(tmp: Path, monkeypatch: pytest.MonkeyPatch, speed: float) -> list[float]:
    started: dict[str, float] = {}
    lengths: list[float] = []
    seen: set[str] = set()

    def look(fleet: DemoFleet, t: float) -> None:
        live = set(fleet.live_runs())
        for sid in live - seen:
            started[sid] = t
        for sid in seen - live:
            if sid in started:  # (the runs live at start began before the clock did)
                lengths.append(t - started.pop(sid))
        seen.clear()
        seen.update(live)

    simulate(tmp, monkeypatch, 400 / speed, speed, look)
    return lengths


def test_a_turn_lasts_tens_of_seconds_and_speed_scales_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = turn_lengths(tmp_path / "slow", monkeypatch, 1.0)
    fast = turn_lengths(tmp_path / "fast", monkeypatch, 2.0)
    assert len(slow) >= 10 and len(fast) >= 10
    # Time to open the session and watch it: tens of seconds (it was ~4 s).
    assert 15 <= statistics.median(slow) <= 90, sorted(slow)
    # --speed 2: the same turns, in half the time.
    assert 0.35 <= statistics.median(fast) / statistics.median(slow) <= 0.65, (statistics.median(fast),
                                                                               statistics.median(slow))


def test_the_task_list_does_not_reorder_every_moment_and_tasks_take_minutes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    orders: list[tuple[float, list[int]]] = []

    def look(fleet: DemoFleet, t: float) -> None:
        orders.append((t, list_order(fleet.data_dir)))

    simulate(tmp_path, monkeypatch, 600, 1.0, look)
    # The first minute is the busy server the demo starts from (a snapshot with
    # many runs under way); after it, at speed 1:
    later = [(t, o) for t, o in orders if t >= 60]
    moves = sum(1 for (_, a), (_, b) in zip(later, later[1:]) if a != b)
    span = later[-1][0] - later[0][0]
    assert moves and span / moves >= 3.0, f"the list reordered {moves} times in {span:.0f} s"
    tasks = sqlite3.connect(tmp_path / "tasks.db")
    try:
        history = tasks.execute("SELECT task_id, new_value, created_at FROM task_history WHERE field = 'state'"
                                " AND created_at > ? ORDER BY created_at", (NOW,)).fetchall()
    finally:
        tasks.close()
    assert history, "the board moves"
    started = {tid: at for tid, state, at in history if state == "active"}
    reviewed = [(at - started[tid]) / 1000 for tid, state, at in history if state == "review" and tid in started]
    assert reviewed, "a task went from active to review"
    assert min(reviewed) >= 60, reviewed  # a task's work takes minutes (it took 40 s ready → approved)
    assert len(history) / 10 <= 6, f"{len(history)} state changes in 10 minutes"
