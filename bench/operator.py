"""Measurements from outside, as an operator sees them: the real CLI in tmux (`bench.tmux`).

- cold start: the shell in the pane waits on a line of input; sending it (the
  start time) execs Python; the first capture with "<N> tasks" in the title and
  task rows under it ends the clock; and ``q`` to the process gone;
- change-to-screen: the scenario of `bench.scenario`, by both paths (disk:
  commits; socket: phase changes in tau's server memory, pushed over its
  socket), checked on the captured text with `bench.views.TextView`;
- idle CPU: utime+stime of the CLI process (``/proc/PID/stat``) over a quiet
  period with ``idle_live`` sessions running (each one subscribed), the task
  list on screen, nothing polling the pane; per thread, with its wake-ups
  (`bench.procinfo`);
- the first change after a quiet spell (the idle window, then ``quiet_gap``
  each): a title, a new session, a filed task, in turn;
- what the CLI asks of tau's server, by request type, in the idle window and
  under load (the server counts every request it receives);
- load (`bench.pane_load`): the writer commits at a fixed rate, with as many
  phase changes in the server's memory; latency of the title markers, the
  commits a second it reached, CPU and RSS of the CLI sampled every second;
- peak RSS: ``VmHWM`` of the CLI process at the end; then ``q`` to exit.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import procinfo
from .common import WriterProc, cpu_seconds, loadavg, now, status_kb, summary_ms
from .inapp import scenario
from .pane_load import pane_load
from .scenario import Change, Scenario
from .tmux import Control, Session, Tmux, list_ready, poll_until
from .views import TextView

# --- cold start ------------------------------------------------------------------------


async def cold_start(tmux: Tmux, data_dir: Path, runtime_dir: Path, n_tasks: int, *,
                     repeats: int, timeout: float = 60.0) -> dict[str, Any]:
    """Process start (Enter sent to the waiting shell) to the first full task list."""
    times: list[float] = []
    rss: list[int] = []
    exits: list[float] = []
    fails = 0
    for _ in range(repeats):
        s = Session(tmux, tmux.name("cold"), data_dir, runtime_dir)
        try:
            await s.start()
            assert s.ctl is not None
            t, _ = await poll_until(s.ctl, list_ready(n_tasks), timeout)
            if t is None:
                fails += 1
            else:
                times.append(t - s.t_start)
                s.resolve_pid()
                rss.append(status_kb(s.pid).get("VmHWM", 0))
        finally:
            took = await s.stop()
            if took is not None:
                exits.append(took)
        await asyncio.sleep(0.2)
    out = summary_ms(times, timeouts=fails)
    out["vmhwm_at_first_screen_mb"] = round(max(rss) / 1024, 1) if rss else None
    out["exit"] = summary_ms(exits)  # q → the process gone, right after the first screen
    return out


# --- the operator session: latency, idle, load, peak RSS -----------------------------------


async def _open_target_task(ctl: Control, task: int, timeout: float, attempts: int = 3) -> bool:
    """Drill into the target task as an operator would on a long list: filter to
    it (``/``, ``#id``, Enter), open it (Enter) once the filtered list is on
    screen, and clear the filter (Escape) once back. (The cursor stays on the
    task it was on while rows move, so "the first running task" is not where the
    cursor is after the list has changed; and on a big store the filtered list
    takes a moment, so Enter waits for it rather than open whatever row is under
    the cursor.) A wrong task opened is left (Escape) and the drill tried again."""
    def on_task(lines: list[str]) -> bool:
        return any(ln.lstrip().startswith(f"#{task} ") for ln in lines[:3])

    def filtered(lines: list[str]) -> bool:
        return any(f"filter: #{task}]" in ln for ln in lines[:2])

    def on_some_task(lines: list[str]) -> bool:
        return any(re.match(r"#\d+ ", ln.lstrip()) for ln in lines[:3])

    for _ in range(attempts):
        await ctl.keys("/")
        await ctl.keys(*f"#{task}")
        await ctl.keys("Enter")
        t, _ = await poll_until(ctl, filtered, timeout, 0.01)
        if t is None:
            await ctl.keys("Escape")
            continue
        await asyncio.sleep(0.3)  # the filtered rows, drawn
        await ctl.keys("Enter")
        t, lines = await poll_until(ctl, lambda ls: on_task(ls) or on_some_task(ls), timeout, 0.01)
        if t is not None and on_task(lines):
            return True
        if t is not None:  # another task's screen: back, and again
            await ctl.keys("Escape")
            await asyncio.sleep(0.3)
        await ctl.keys("Escape")  # the filter cleared
        await asyncio.sleep(0.3)
    return False


def _per_minute(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Requests tau's server received between two readings, by type, per minute."""
    got = {k: v - before["by_type"].get(k, 0) for k, v in after["by_type"].items()}
    got = {k: v for k, v in got.items() if v}
    scale = 60.0 / seconds if seconds > 0 else 0.0
    costly = sum(got.get(k, 0) for k in COSTLY)
    return {"seconds": round(seconds, 1), "count": got,
            "per_minute": {k: round(v * scale, 1) for k, v in sorted(got.items())},
            "total_per_minute": round(sum(got.values()) * scale, 1),
            "costly": costly, "costly_per_minute": round(costly * scale, 1),
            "subscribers": after.get("subscribers"), "connections": after.get("connections"),
            "live": after.get("live")}


#: Requests that take tau's state lock and parse messages (TAU.md §7.6).
COSTLY = ("list_sessions", "get_session_info", "task_get", "get_messages")


async def operator_session(tmux: Tmux, meta: dict[str, Any], data_dir: Path, runtime_dir: Path,
                           writer: WriterProc, *, n_list: int, n_task: int, n_socket: int = 0,
                           idle_s: float, idle_live: int = 50,
                           quiet_changes: int = 0, quiet_gap: float = 60.0,
                           load_s: float, load_rate: float, sid_base: int, timeout: float = 30.0,
                           poll: float | None = None, log: Callable[[str], None] = print,
                           seed: int = 11) -> dict[str, Any]:
    """The CLI in tmux: disk-path changes (``n_list`` / ``n_task``) and socket-path
    phase changes (``n_socket`` on each screen), then idle with ``idle_live``
    sessions running (and so subscribed), the first change after quiet spells,
    the load; what the CLI asked of tau's server in the idle and load windows;
    peak RSS and the time ``q`` takes to end it."""
    n_tasks = int(meta["counts"]["tasks"])
    sc = scenario(meta, data_dir, sid_base)
    out: dict[str, Any] = {"notes": []}
    s = Session(tmux, tmux.name("op"), data_dir, runtime_dir, poll)
    try:
        await s.start()
        ctl = s.ctl
        assert ctl is not None
        t, _ = await poll_until(ctl, list_ready(n_tasks), 120)
        out["first_screen_ms"] = None if t is None else round((t - s.t_start) * 1000, 1)
        s.resolve_pid()
        # What the first screen did without is read in the background: the
        # changes are timed once it is (the CLI quiet for a moment).
        out["settled_after_s"] = round(await _quiet(s.pid), 1)
        await _latency(out, ctl, writer, sc, n_list=n_list, n_task=n_task, n_socket=n_socket,
                       timeout=timeout, poll=poll, rng=random.Random(seed))
        for op, args in sc.cleanup_ops():  # the sessions and tasks it added, gone
            await writer.do(op, **args)
        quiet_since = await _idle(out, ctl, s.pid, writer, sc, idle_s=idle_s, idle_live=idle_live)
        if quiet_changes:
            await _after_quiet(out, ctl, writer, sc, quiet_changes, quiet_gap, now() - quiet_since,
                               timeout)
        if load_s > 0:
            r0 = await writer.requests()
            t0 = now()
            out["load"] = await pane_load(ctl, s.pid, writer, sc.task, rate=load_rate, seconds=load_s,
                                          keep=[sc.sid])
            r1 = await writer.requests()
            out["tau_cost"]["load"] = _per_minute(r0, r1, now() - t0)
        for op, args in sc.cleanup_ops():
            await writer.do(op, **args)
        out["vmhwm_mb"] = round(status_kb(s.pid)["VmHWM"] / 1024, 1)
        out["vmrss_end_mb"] = round(status_kb(s.pid)["VmRSS"] / 1024, 1)
        out["captures"] = ctl.captures
    finally:
        took = await s.stop()
    if took is not None:  # q after the load: the busy case
        out["exit_ms"] = round(took * 1000, 1)
    if not out["notes"]:
        del out["notes"]
    return out


async def _timed(ctl: Control, writer: WriterProc, change: Change, lat: list, invalid: list, *,
                 timeout: float) -> None:
    """One change, timed from the writer's clock to the first capture showing it."""
    if change.expect.check_lines(await ctl.capture()):
        reply = await writer.do(change.op, **change.args)
        if change.after is not None:
            change.after(reply)
        invalid.append((change.path, change.screen, change.kind))
        return
    reply = await writer.do(change.op, **change.args)
    if change.after is not None:
        change.after(reply)
    t_seen, _ = await poll_until(ctl, change.expect.check_lines, timeout)
    lat.append((change.path, change.screen, change.kind,
                None if t_seen is None else t_seen - reply["t0"]))


async def _latency(out: dict[str, Any], ctl: Control, writer: WriterProc, sc: Scenario, *,
                   n_list: int, n_task: int, n_socket: int, timeout: float,
                   poll: float | None, rng: random.Random) -> None:
    """Change-to-screen on the task list, then on the task screen, by both paths."""
    for op, args in sc.setup_ops():
        await writer.do(op, **args)
    t, _ = await poll_until(ctl, sc.ready_expect().check_lines, timeout + 30)
    if t is None:
        out["notes"].append("setup change never appeared")
    lat: list[tuple[str, str, str, float | None]] = []  # path, screen, kind, seconds
    invalid: list[tuple[str, str, str]] = []  # held before the change: not measured

    async def timed(change: Change) -> None:
        await _timed(ctl, writer, change, lat, invalid, timeout=timeout + (poll or 0))
        await asyncio.sleep(rng.uniform(0.05, 0.05 + poll) if poll else rng.uniform(0.03, 0.15))

    async def on_task_screen(changes: Any) -> None:
        if not await _open_target_task(ctl, sc.task, timeout + 30):
            out["notes"].append("could not open the target task (/#id, Enter)")
            return
        await poll_until(ctl, lambda ls: TextView(ls).card(sc.sid) is not None, timeout + 30)
        for change in changes:
            await timed(change)
        await ctl.keys("Escape")  # back to the list
        await asyncio.sleep(0.2)
        await ctl.keys("Escape")  # and its filter cleared
        back, _ = await poll_until(ctl, list_ready(sc.tasks), timeout + 30, 0.01)
        if back is None:
            out["notes"].append("Escape did not bring the task list back")

    # The socket path first, on the target as the store has it (the disk
    # path's changes add sessions to it: its task screen grows a pane each),
    # as the in-app run measures it.
    if n_socket:
        for change in sc.list_changes(n_socket, "socket"):
            await timed(change)
        await on_task_screen(sc.task_changes(n_socket, "socket"))
    for change in sc.list_changes(n_list, "disk"):
        await timed(change)
    await on_task_screen(sc.task_changes(n_task, "disk"))

    def pick(path: str, pred: Callable[[str, str], bool]) -> dict[str, Any]:
        sel = [x for x in lat if x[0] == path and pred(x[1], x[2])]
        return summary_ms([x[3] for x in sel if x[3] is not None],
                          timeouts=sum(1 for x in sel if x[3] is None))

    for key, path in (("latency", "disk"), ("socket", "socket")):
        if not any(x[0] == path for x in lat):
            continue
        out[key] = {"all": pick(path, lambda a, b: True), "list": pick(path, lambda a, b: a == "list"),
                    "task": pick(path, lambda a, b: a == "task"),
                    "by_kind": {f"{a}/{b}": pick(path, lambda x, y, a=a, b=b: x == a and y == b)
                                for a, b in sorted({(x[1], x[2]) for x in lat if x[0] == path})}}
        bad = sum(1 for x in invalid if x[0] == path)
        if bad:
            out[key]["invalid"] = bad


async def _idle(out: dict[str, Any], ctl: Control, pid: int, writer: WriterProc, sc: Scenario, *,
                idle_s: float, idle_live: int) -> float:
    """``idle_live`` sessions running, all subscribed, nothing changes, nothing
    polls the pane: CPU per thread, wake-ups, what tau was asked. Returns when
    the window began: the store has been quiet since."""
    adj = await writer.do("live_count", n=idle_live, keep=[sc.sid], avoid_task=sc.task)
    t_sub = now()
    subs = await writer.requests()
    while (subs["unwatched"] or subs["subscribers"] != subs["live"]) and now() - t_sub < 30:
        await asyncio.sleep(0.2)
        subs = await writer.requests()
    subscribed_s = now() - t_sub
    if subs["unwatched"]:
        out["notes"].append(f"idle: running sessions not subscribed: {subs['unwatched']}")
    settle_s = await _quiet(pid, 1.0)
    shown = next((ln.strip() for ln in await ctl.capture() if ln.strip()), "")
    r0 = await writer.requests()
    c0, t0 = cpu_seconds(pid), now()
    th0, wk0 = procinfo.thread_cpu(pid), procinfo.thread_wakeups(pid)
    spy = await procinfo.spy(pid, idle_s)
    await asyncio.sleep(idle_s)
    c1, t1 = cpu_seconds(pid), now()
    th1, wk1 = procinfo.thread_cpu(pid), procinfo.thread_wakeups(pid)
    if spy is not None:
        await spy.wait()
    r1 = await writer.requests()
    shown_end = next((ln.strip() for ln in await ctl.capture() if ln.strip()), "")
    idle = out["idle"] = {
        "screen_end": shown_end[:60], "seconds": round(t1 - t0, 1), "cpu_s": round(c1 - c0, 3),
        "cpu_percent_of_core": round(100 * (c1 - c0) / (t1 - t0), 2),
        "rss_mb": round(status_kb(pid)["VmRSS"] / 1024, 1), "settled_after_s": round(settle_s, 1),
        "screen": shown[:60], "live": adj["live"], "subscribed_after_s": round(subscribed_s, 1),
        "loadavg": loadavg()}
    # Per thread (main first, the rest by use): where the idle CPU goes.
    per = sorted(((tid, 100 * (th1[tid] - th0.get(tid, 0.0)) / (t1 - t0)) for tid in th1),
                 key=lambda x: (x[0] != str(pid), -x[1]))
    idle["threads_percent"] = [round(p, 2) for tid, p in per if p > 0 or tid == str(pid)]
    names = await procinfo.thread_names(pid)
    if names:
        idle["threads"] = {names.get(tid, tid): round(p, 2) for tid, p in per if p > 0}
    # Wake-ups a second per thread (voluntary context switches): on a VM
    # each costs tens of microseconds whatever the thread then does.
    idle["wakeups_per_s"] = {names.get(tid, tid): round((wk1[tid] - wk0.get(tid, 0)) / (t1 - t0), 1)
                             for tid in wk1 if wk1[tid] - wk0.get(tid, 0) > 0}
    out["tau_cost"] = {"idle": _per_minute(r0, r1, t1 - t0)}
    return t0


async def _quiet(pid: int, step: float = 0.25, limit: float = 30.0) -> float:
    """Wait until the CLI is quiet: a ``step`` under 2 % of a core, or two
    alike (within 1.5 points, under 30 %); at most ``limit`` s. Returns the wait."""
    t0 = now()
    prev = None
    while now() - t0 < limit:
        a = cpu_seconds(pid)
        await asyncio.sleep(step)
        use = (cpu_seconds(pid) - a) / step
        if use < 0.02 or (prev is not None and abs(use - prev) < 0.015 and use < 0.3):
            break
        prev = use
    return now() - t0


async def _after_quiet(out: dict[str, Any], ctl: Control, writer: WriterProc, sc: Scenario,
                       n: int, gap: float, quiet_so_far: float, timeout: float) -> None:
    """The first change after a quiet spell: right after the idle window (as
    long a quiet as it was), then ``n`` more after ``gap`` s of quiet each; in
    turn a title (tasks.db), a new session (tau.db, then tasks.db) and a filed
    task (tasks.db): whatever a quiet dashboard may have let go cold, the
    change waits for it."""
    kinds = iter(c for c in sc.list_changes(3 * (n + 1)) if c.kind in ("title", "session", "created"))
    times: list[float] = []
    quiet: list[float] = []
    by_kind: dict[str, list[float]] = {}
    lost = 0
    for k in range(n + 1):
        if k:
            await asyncio.sleep(gap)
        change = next(kinds)
        quiet.append(round(quiet_so_far if not k else gap, 1))
        reply = await writer.do(change.op, **change.args)
        if change.after is not None:
            change.after(reply)
        t_seen, _ = await poll_until(ctl, change.expect.check_lines, timeout)
        if t_seen is None:
            lost += 1
        else:
            times.append(t_seen - reply["t0"])
            by_kind.setdefault(change.kind, []).append(round((t_seen - reply["t0"]) * 1000, 1))
    out["after_quiet"] = summary_ms(times, timeouts=lost)
    out["after_quiet"].update({"quiet_s": quiet, "by_kind_ms": by_kind})


