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

#: (module, class or None, function) to time.
TARGETS = [
    ("tui.store", "Store", "read_task_list"),
    ("tui.tau.fleet_tasks", "TaskTables", "refresh"),
    ("tui.tau.fleet_tasks", "TaskTables", "_refresh_links"),
    ("tui.tau.fleet_tasks", "TaskTables", "_find_relevant"),
    ("tui.tau.fleet_sessions", "SessionTable", "refresh"),
    ("tui.tau.fleet_sessions", "SessionTable", "_read_new_messages"),
    ("tui.tau.fleet_sessions", "SessionTable", "read_sessions"),
    ("tui.tau.fleet_sessions", "SessionTable", "count_messages"),
    ("tui.tau.fleet", "FleetModel", "task_rows"),
    ("tui.store", "Store", "read_task"),
    ("tui.tau.task_read", "TaskReader", "read_rows"),
    ("tui.tau.usage", "UsageSums", "of"),
    ("tui.tau.transcript_read", "TranscriptReader", "newest"),
    ("tui.store", "Store", "read_transcript"),
    ("tui.store", "Store", "data_versions"),
    ("tui.store", "Store", "_ask_server"),
    ("tui.store", "Store", "_liveness"),
    ("tui.tau.live", "LiveTracker", "_take"),
    ("tui.tau.live", "LiveTracker", "want"),
    ("tui.tau.live", "LiveTracker", "settle"),
    ("tui.tau.fleet", "FleetModel", "refresh_tasks"),
    ("tui.tau.fleet", "FleetModel", "refresh_tau"),
    ("tui.store", "Store", "open"),
    ("tui.app", "SessionTopApp", "_read_for_screen"),
    ("tui.app", "SessionTopApp", "_tick"),
    ("tui.screens.tasks", "TaskListScreen", "apply"),
    ("tui.screens.tasks", "TaskListScreen", "_redraw"),
    ("tui.screens.tasks", "TaskListScreen", "tick"),
    ("tui.groups", "Grouper", "group"),
    ("tui.widgets.task_table", "TaskTable", "show"),
    ("tui.widgets.task_table", "TaskTable", "build_rows"),
    ("tui.widgets.task_table", "TaskTable", "tick"),
    ("tui.widgets.task_table", "TaskTable", "_task_cells"),
    ("textual.widgets._data_table", "DataTable", "update_cell"),
    ("textual.widgets._data_table", "DataTable", "render_lines"),
    ("tui.screens.task", "TaskScreen", "apply"),
    ("tui.screens.task", "TaskScreen", "_render_panes"),
    ("tui.screens.task", "TaskScreen", "_render_fields"),
    ("tui.screens.task", "TaskScreen", "tick"),
    ("tui.widgets.session_card", "SessionCard", "_rerender"),
    ("tui.screens.session", "TranscriptScreen", "apply"),
    ("tui.widgets.message_view", "MessageView", "render_message"),
    ("textual.screen", "Screen", "_refresh_layout"),
    ("textual.screen", "Screen", "_compositor_refresh"),
    ("textual.app", "App", "_display"),
    ("tui.widgets.status", "StatusLine", "tick"),
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
    install()
    from .inapp import latency_run, open_session_run

    meta = gen.ensure_store(args.size, args.cache)
    work = Path(args.cache) / "work" / f"profile-{args.size}"
    data = gen.working_copy(meta, work / "data")
    run = work / "run"
    out: dict[str, Any] = {"size": args.size}
    writer = await WriterProc(data, run, meta["live_phases"]).start()  # tau: files and socket
    try:
        what = set(args.what.split(","))
        if "start" in what:
            from tui.app import SessionTopApp
            from tui.store import Store

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
            from tui.app import SessionTopApp
            from tui.store import Store

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
        if "socket" in what:
            n = args.changes
            res = await latency_run(meta, data, run, writer, poll=None, n_list=n, n_task=n,
                                    sid_base=71_000_000, path="socket")
            print("\nsocket path:", json.dumps({k: res[k] for k in ("all", "list", "task", "apply_only")}))
            out["socket"] = {"latency": res, "functions": report(f"{n} socket-path phase changes per screen")}
        if "load" in what:
            from .inapp import load_run

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
