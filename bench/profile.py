"""Where a change's time goes: ``python -m bench.profile --size L [--what start,idle,list,task,socket,open,load]``.

Wraps (in this process only, at run time) the store's, the app's and the
screens' methods with wall-clock timers, runs the same in-app scenario as the
benchmark, and prints, per function: calls, total, mean and max per call. Async
store methods' wall time includes the wait for aiosqlite's thread, i.e. the
SQLite work. ``--tracemalloc`` adds the biggest allocation sites after the
first task-list read (slow; for the memory figure).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import inspect
import json
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path
from typing import Any

from . import gen
from .common import WriterProc

STATS: dict[str, list[float]] = defaultdict(list)
#: (what, monotonic s) of the stage marks (``--what stages``), in order.
EVENTS: list[tuple[str, float]] = []
#: Where a change passes on its way to the screen: (mark, module, class, function, at entry?).
STAGE_MARKS = [
    ("push", "tui.tau.live", "LiveTracker", "_take", True),
    ("read", "tui.ui.app", "SessionTopApp", "_read_for_screen", True),
    ("versions", "tui.tau.store", "Store", "data_versions", False),
    ("store", "tui.tau.store", "Store", "read_task_list", False),
    ("store", "tui.tau.store", "Store", "read_task", False),
    ("apply", "tui.ui.screens.tasks", "TaskListScreen", "apply", False),
    ("apply", "tui.ui.screens.task", "TaskScreen", "apply", False),
]

#: (module, class or None, function) to time.
TARGETS = [
    ("tui.tau.store", "Store", "read_task_list"),
    ("tui.tau.fleet_tasks", "TaskTables", "refresh"),
    ("tui.tau.fleet_tasks", "TaskTables", "_refresh_links"),
    ("tui.tau.fleet_tasks", "TaskTables", "_find_relevant"),
    ("tui.tau.fleet_sessions", "SessionTable", "refresh"),
    ("tui.tau.fleet_sessions", "SessionTable", "_read_new_messages"),
    ("tui.tau.fleet_sessions", "SessionTable", "read_sessions"),
    ("tui.tau.fleet_sessions", "SessionTable", "count_messages"),
    ("tui.tau.fleet", "FleetModel", "task_rows"),
    ("tui.tau.store", "Store", "read_task"),
    ("tui.tau.task_read", "TaskReader", "read_rows"),
    ("tui.tau.usage", "UsageSums", "of"),
    ("tui.tau.transcript_read", "TranscriptReader", "newest"),
    ("tui.tau.store", "Store", "read_transcript"),
    ("tui.tau.store", "Store", "data_versions"),
    ("tui.tau.store", "Store", "_ask_server"),
    ("tui.tau.store", "Store", "_liveness"),
    ("tui.tau.live", "LiveTracker", "_take"),
    ("tui.tau.live", "LiveTracker", "want"),
    ("tui.tau.live", "LiveTracker", "settle"),
    ("tui.tau.fleet", "FleetModel", "refresh_tasks"),
    ("tui.tau.fleet", "FleetModel", "refresh_tau"),
    ("tui.tau.store", "Store", "open"),
    ("tui.ui.app", "SessionTopApp", "_read_for_screen"),
    ("tui.ui.app", "SessionTopApp", "_tick"),
    ("tui.ui.screens.tasks", "TaskListScreen", "apply"),
    ("tui.ui.screens.tasks", "TaskListScreen", "_redraw"),
    ("tui.ui.screens.tasks", "TaskListScreen", "tick"),
    ("tui.model.groups", "Grouper", "group"),
    ("tui.ui.widgets.task_table", "TaskTable", "show"),
    ("tui.ui.widgets.task_table", "TaskTable", "build_rows"),
    ("tui.ui.widgets.task_table", "TaskTable", "tick"),
    ("tui.ui.widgets.task_table", "TaskTable", "_task_cells"),
    ("textual.widgets._data_table", "DataTable", "update_cell"),
    ("textual.widgets._data_table", "DataTable", "render_lines"),
    ("tui.ui.screens.task", "TaskScreen", "apply"),
    ("tui.ui.screens.task", "TaskScreen", "_render_panes"),
    ("tui.ui.screens.task", "TaskScreen", "_render_fields"),
    ("tui.ui.screens.task", "TaskScreen", "tick"),
    ("tui.ui.widgets.session_card", "SessionCard", "_rerender"),
    ("tui.ui.screens.session", "TranscriptScreen", "apply"),
    ("tui.ui.widgets.message_view", "MessageView", "render_message"),
    ("textual.screen", "Screen", "_refresh_layout"),
    ("textual.screen", "Screen", "_compositor_refresh"),
    ("textual.app", "App", "_display"),
    ("tui.ui.widgets.status", "StatusLine", "tick"),
]


def _wrap(owner: Any, name: str, label: str) -> None:
    fn = getattr(owner, name, None)
    if fn is None:
        return
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def aw(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return await fn(*a, **k)
            finally:
                STATS[label].append(time.perf_counter() - t)
        setattr(owner, name, aw)
    else:
        @functools.wraps(fn)
        def w(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                STATS[label].append(time.perf_counter() - t)
        setattr(owner, name, w)


def _mark(owner: Any, name: str, what: str, at_entry: bool) -> None:
    fn = getattr(owner, name, None)
    if fn is None:
        return
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def aw(*a: Any, **k: Any) -> Any:
            if at_entry:
                EVENTS.append((what, time.monotonic()))
            try:
                return await fn(*a, **k)
            finally:
                if not at_entry:
                    EVENTS.append((what, time.monotonic()))
        setattr(owner, name, aw)
    else:
        @functools.wraps(fn)
        def w(*a: Any, **k: Any) -> Any:
            if at_entry:
                EVENTS.append((what, time.monotonic()))
            try:
                return fn(*a, **k)
            finally:
                if not at_entry:
                    EVENTS.append((what, time.monotonic()))
        setattr(owner, name, w)


def install_marks() -> None:
    for what, mod_name, cls, fn, at_entry in STAGE_MARKS:
        owner = getattr(importlib.import_module(mod_name), cls)
        _mark(owner, fn, what, at_entry)


def stage_breakdown(changes: list[Any]) -> dict[str, Any]:
    """Per change: the time from the change to the first mark of each stage
    after the one before (push: tau's event read by the tracker; read: the
    refresher starts a read; versions: data_version asked; store: the store's
    read done; apply: the screen applied it; paint: the frame showing it)."""
    from .common import summary_ms

    order = ("push", "read", "versions", "store", "apply")
    spans: dict[str, list[float]] = defaultdict(list)
    for c in changes:
        if c.latency is None or c.t0 is None:
            continue
        end = c.t0 + c.latency
        prev, t_prev = "change", c.t0
        for what in order:
            t = next((t for w, t in EVENTS if w == what and t_prev <= t <= end), None)
            if t is None:
                continue
            spans[f"{prev} → {what}"].append(t - t_prev)
            prev, t_prev = what, t
        spans[f"{prev} → paint"].append(end - t_prev)
    return {k: summary_ms(v) for k, v in spans.items()}


def install() -> None:
    for mod_name, cls, fn in TARGETS:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        owner = getattr(mod, cls, None) if cls else mod
        if owner is not None:
            _wrap(owner, fn, f"{cls + '.' if cls else ''}{fn}")


def report(title: str) -> list[dict[str, Any]]:
    rows = []
    for label, xs in STATS.items():
        rows.append({"function": label, "calls": len(xs), "total_s": round(sum(xs), 3),
                     "mean_ms": round(1000 * sum(xs) / len(xs), 2), "max_ms": round(1000 * max(xs), 1)})
    rows.sort(key=lambda r: -r["total_s"])
    print(f"\n## {title}\n")
    print(f"{'function':40} {'calls':>6} {'total s':>8} {'mean ms':>9} {'max ms':>8}")
    for r in rows:
        print(f"{r['function']:40} {r['calls']:6d} {r['total_s']:8.3f} {r['mean_ms']:9.2f} {r['max_ms']:8.1f}")
    STATS.clear()
    return rows


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    if "stages" in args.what:
        install_marks()  # marks only: the timers' own cost would blur the stages
    else:
        install()
    from .inapp import latency_run
    from .opening import open_session_run

    meta = gen.ensure_store(args.size, args.cache)
    work = Path(args.cache) / "work" / f"profile-{args.size}"
    data = gen.working_copy(meta, work / "data")
    run = work / "run"
    out: dict[str, Any] = {"size": args.size}
    writer = await WriterProc(data, run, meta["live_phases"]).start()  # tau: files and socket
    try:
        what = set(args.what.split(","))
        if "start" in what:
            from tui.ui.app import SessionTopApp
            from tui.tau.store import Store

            if args.tracemalloc:
                tracemalloc.start(25)
            t = time.perf_counter()
            app = SessionTopApp(Store(data, run))
            async with app.run_test(size=(160, 50)) as pilot:
                while app.applied < 1:
                    await asyncio.sleep(0.005)
                first = time.perf_counter() - t
                await pilot.pause()
                if args.tracemalloc:
                    snap = tracemalloc.take_snapshot()
                    tracemalloc.stop()
                    top = snap.statistics("lineno")[:25]
                    print("\n## biggest live allocations after the first task-list read\n")
                    for st in top:
                        print(f"{st.size / 1e6:8.1f} MB {st.count:8d}  {st.traceback[0]}")
                    out["tracemalloc_top"] = [(str(s.traceback[0]), s.size, s.count) for s in top]
            print(f"\nfirst screen (in-app, from App() to the first applied snapshot): {first * 1000:.0f} ms")
            out["start"] = {"first_screen_ms": round(first * 1000, 1), "functions": report("start")}
        if "idle" in what:
            from tui.ui.app import SessionTopApp
            from tui.tau.store import Store

            from .common import cpu_seconds

            app = SessionTopApp(Store(data, run))
            async with app.run_test(size=(160, 50)) as pilot:
                while app.applied < 1:
                    await asyncio.sleep(0.005)
                await asyncio.sleep(5)
                STATS.clear()
                c0, t0 = cpu_seconds(), time.perf_counter()
                await asyncio.sleep(args.idle)
                c1, t1 = cpu_seconds(), time.perf_counter()
            pct = 100 * (c1 - c0) / (t1 - t0)
            print(f"\nidle, in-app (headless): {pct:.2f} % of a core over {t1 - t0:.0f} s")
            out["idle"] = {"cpu_percent": round(pct, 2), "functions": report(f"idle {args.idle:g} s")}
        if "list" in what or "task" in what:
            n = args.changes
            res = await latency_run(meta, data, run, writer, poll=None,
                                    n_list=n if "list" in what else 0,
                                    n_task=n if "task" in what else 0, sid_base=70_000_000)
            print("\nlatency:", json.dumps({k: res[k] for k in ("all", "list", "task", "apply_only")}))
            out["changes"] = {"latency": res, "functions": report(f"{n} changes per screen")}
        if "stages" in what:
            from .inapp import Timed

            n = args.changes
            for path in ("socket", "disk"):
                raw: list[Timed] = []
                EVENTS.clear()
                res = await latency_run(meta, data, run, writer, poll=None, n_list=n, n_task=n,
                                        sid_base=72_000_000 + (path == "disk") * 100_000, path=path,
                                        raw=raw)
                per_screen = {scr: stage_breakdown([c for c in raw if c.screen == scr])
                              for scr in ("list", "task")}
                print(f"\n## {path} path, {n} changes per screen: where the time goes (ms, p50 / p95)\n")
                for scr, table in per_screen.items():
                    print(f"{scr}: latency {res[scr].get('p50')} / {res[scr].get('p95')}")
                    for span, st in table.items():
                        print(f"   {span:22} {st.get('p50', 0):7.1f} / {st.get('p95', 0):7.1f}   n={st['n']}")
                out[f"stages_{path}"] = {"latency": res, "stages": per_screen}
        if "socket" in what:
            n = args.changes
            res = await latency_run(meta, data, run, writer, poll=None, n_list=n, n_task=n,
                                    sid_base=71_000_000, path="socket")
            print("\nsocket path:", json.dumps({k: res[k] for k in ("all", "list", "task", "apply_only")}))
            out["socket"] = {"latency": res, "functions": report(f"{n} socket-path phase changes per screen")}
        if "load" in what:
            from .inapp_load import load_run

            res = await load_run(meta, data, run, writer, rate=100.0, seconds=args.idle)
            print("\nload (in-app):", json.dumps({k: res[k] for k in ("latency", "cpu_percent_of_core",
                                                                   "p50_first_third_ms", "p50_last_third_ms")}))
            out["load"] = {"result": res, "functions": report(f"in-app load, 100 commits/s for {args.idle:g} s")}
        if "open" in what:
            sid = meta.get("big_session") or meta["biggest_session"]
            res = await open_session_run(data, run, sid, repeats=2)
            print("\nopen:", json.dumps(res))
            out["open"] = {"result": res, "functions": report(f"opening {sid} twice, cold and warm")}
    finally:
        await writer.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="M")
    ap.add_argument("--what", default="start,list,task,open")
    ap.add_argument("--changes", type=int, default=30)
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of --what idle / load")
    ap.add_argument("--cache", type=Path, default=gen.DEFAULT_CACHE)
    ap.add_argument("--tracemalloc", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    out = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
