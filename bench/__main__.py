"""``python -m bench``: build (or reuse) the stores, measure, write bench/results.json.

Per size: cold start (tmux), change-to-screen inside the app by the disk path
(commits: events, then ``--poll 2`` and ``--poll 1``) and by the socket path
(phase changes in tau's server memory, pushed over its socket), both again as
an operator sees them (the CLI in tmux), idle CPU with running sessions
subscribed, 100 commits/s of load, what the dashboard asks of tau's server
meanwhile, peak RSS, and the time to open the store's biggest session; once
per run, the time to open a 100,000-message transcript (store B). See
BENCHMARKS.md for the method.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import gen
from .common import REPO, OthersMeter, WriterProc, loadavg, wait_calm

DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"

TARGETS = {
    "latency_p50_ms": 50, "latency_p99_ms": 150, "poll2_over_event_p50": 15,
    "cold_start_S_s": 0.5, "cold_start_L_s": 1.5, "open_100k_s": 0.5, "idle_cpu_percent": 1.0,
    "load_p99_ms": 250, "load_rss_growth_mb": 5.0, "peak_rss_L_mb": 200,
    "socket_p50_ms": 20, "socket_p99_ms": 50, "costly_requests_per_min": 0,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    try:
        from importlib.metadata import version
        textual_v = version("textual")
        aiosqlite_v = version("aiosqlite")
        watchfiles_v = version("watchfiles")
    except Exception:  # noqa: BLE001
        textual_v = aiosqlite_v = watchfiles_v = "?"
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "free_h": sh("free -h"),
        "mem_total_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": sys.version.split()[0], "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version, "textual": textual_v, "aiosqlite": aiosqlite_v,
        "watchfiles": watchfiles_v, "tmux": sh("tmux -V"), "loadavg_start": loadavg(),
    }


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True,
                                  text=True).stdout.strip()
        except OSError:
            return ""

    if not (REPO / ".git").exists():  # a snapshot (git archive) of a commit
        return {"commit": os.environ.get("BENCH_GIT_COMMIT", "?"), "tui_dirty": False,
                "snapshot": str(REPO)}
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "tui_dirty": bool(git("status", "--porcelain", "--", "tui", "styles"))}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="S,M,L", help="comma-separated: S, M, L (default S,M,L)")
    ap.add_argument("--quick", action="store_true",
                    help="few changes, short idle and load: a smoke run of every measurement")
    ap.add_argument("--changes", type=int, default=None,
                    help="in-app event-path changes per size, half on the task list, half on the "
                         "task screen (default 200; --quick 24)")
    ap.add_argument("--poll-changes", type=int, default=None,
                    help="changes per size for each of --poll 2 and --poll 1 (default 100; --quick 12)")
    ap.add_argument("--operator-changes", type=int, default=None,
                    help="disk-path changes per size seen through tmux (default 200; --quick 16)")
    ap.add_argument("--socket-changes", type=int, default=None,
                    help="socket-path phase changes per size, half on each screen, in-app and "
                         "again through tmux (default 200; --quick 24)")
    ap.add_argument("--idle-live", type=int, default=50,
                    help="sessions running (so subscribed) during the idle window (50)")
    ap.add_argument("--idle", type=float, default=None, help="idle CPU window, s (default 30; --quick 5)")
    ap.add_argument("--quiet-changes", type=int, default=None,
                    help="changes each after 6 s of quiet, in the operator session (default 5; --quick 2)")
    ap.add_argument("--load-seconds", type=float, default=None, help="load duration, s (default 30; --quick 5)")
    ap.add_argument("--load-rate", type=float, default=100.0, help="commits a second under load (100)")
    ap.add_argument("--cold-repeats", type=int, default=None, help="cold starts per size (default 5; --quick 2)")
    ap.add_argument("--open-repeats", type=int, default=None, help="transcript opens (default 5; --quick 2)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: cold, inapp (disk "
                                               "path in-app), socket (socket path in-app), poll, "
                                               "operator, open, big")
    ap.add_argument("--calm", type=float, default=0.3,
                    help="before each measurement, wait until at most this share of the machine's "
                         "CPUs is busy with other work (default 0.3; 1 never waits)")
    ap.add_argument("--calm-wait", type=float, default=600.0,
                    help="the longest wait for --calm, s (default 600; then it measures anyway)")
    ap.add_argument("--disturbed", type=float, default=0.2,
                    help="a part during which other processes used more than this share of the "
                         "machine's CPUs is measured again (default 0.2)")
    ap.add_argument("--retries", type=int, default=2,
                    help="how many times a disturbed part is measured again (default 2)")
    ap.add_argument("--merge", type=Path, default=None,
                    help="start from this results file: the parts measured now replace its figures "
                         "(per size and part); the others are kept, with the run that made them")
    ap.add_argument("--cache", type=Path, default=gen.DEFAULT_CACHE,
                    help=f"where built stores are kept (default {gen.DEFAULT_CACHE})")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the stores even if cached")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file (default bench/results.json)")
    args = ap.parse_args(argv)
    q = args.quick
    for name, full, quick in (("changes", 200, 24), ("poll_changes", 100, 12),
                              ("operator_changes", 200, 16), ("socket_changes", 200, 24),
                              ("idle", 30.0, 5.0),
                              ("load_seconds", 30.0, 5.0), ("cold_repeats", 5, 2),
                              ("open_repeats", 5, 2), ("quiet_changes", 5, 2)):
        if getattr(args, name) is None:
            setattr(args, name, quick if q else full)
    args.sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    for s in args.sizes:
        if s not in gen.SIZES:
            ap.error(f"unknown size {s!r}")
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


async def bench_size(size: str, args: argparse.Namespace, tmux: Any) -> dict[str, Any]:
    from .inapp import latency_run, open_session_run
    from .operator import cold_start, operator_session

    meta = gen.ensure_store(size, args.cache, force=args.rebuild, log=log)
    work = Path(args.cache) / "work" / size
    t = time.perf_counter()
    data = gen.working_copy(meta, work / "data")
    run = work / "run"
    log(f"{size}: working copy in {time.perf_counter() - t:.1f} s "
        f"({meta['counts']['tasks']} tasks, {meta['counts']['sessions']} sessions, "
        f"{meta['counts']['messages']} messages, {meta['bytes'] / 1e6:.0f} MB)")
    res: dict[str, Any] = {"store": {k: meta[k] for k in ("counts", "bytes", "build_seconds",
                                                          "target_task", "target_session",
                                                          "biggest_session", "biggest_session_messages")}}
    # tau: holds the files open and serves the socket, the running sessions' phases in memory
    writer = await WriterProc(data, run, meta["live_phases"]).start()
    sid_base = 50_000_000
    half = max(1, args.changes // 2)
    calm_log: dict[str, Any] = {}
    res["calm"] = calm_log

    async def part(name: str, measure: Any) -> Any:
        """One part, measured when the shared machine is quiet: wait (bounded)
        for at most ``--calm`` of it to be busy, measure, and if others used
        more than ``--disturbed`` of it meanwhile (`OthersMeter`), measure again
        (``--retries`` times at most), keeping the least disturbed attempt."""
        best: tuple[float, Any, dict[str, Any]] | None = None
        for attempt in range(args.retries + 1):
            c = await wait_calm(args.calm, args.calm_wait, log=lambda m: log(f"{size}: {name}: {m}"))
            meter = OthersMeter(tmux.socket).start()
            r = await measure()
            c["during"] = d = meter.stop()
            c["attempt"] = attempt + 1
            share = d["others_share"] if d["others_share"] is not None else 0.0
            if best is None or share < best[0]:
                best = (share, r, c)
            if share <= args.disturbed:
                break
            log(f"{size}: {name}: others used {share:.0%} of the machine meanwhile"
                + (": measuring again" if attempt < args.retries else ": keeping the least disturbed"))
        assert best is not None
        calm_log[name] = best[2]
        return best[1]

    def next_base() -> int:
        nonlocal sid_base
        sid_base += 100_000
        return sid_base

    try:
        if "cold" not in args.skip:
            log(f"{size}: cold start ×{args.cold_repeats} (tmux)")
            res["cold_start"] = await part("cold", lambda: cold_start(
                tmux, data, run, meta["counts"]["tasks"], repeats=args.cold_repeats))
            log(f"{size}: cold start {res['cold_start']}")
        if "inapp" not in args.skip:
            log(f"{size}: in-app change-to-screen, disk path, {args.changes} changes")
            res["inapp_event"] = await part("inapp", lambda: latency_run(
                meta, data, run, writer, poll=None, n_list=half, n_task=half, sid_base=next_base(),
                log=log))
            log(f"{size}: disk path: {res['inapp_event']['all']}")
        if "socket" not in args.skip:
            sh = max(1, args.socket_changes // 2)
            log(f"{size}: in-app change-to-screen, socket path, {args.socket_changes} phase changes")
            res["inapp_socket"] = await part("socket", lambda: latency_run(
                meta, data, run, writer, poll=None, n_list=sh, n_task=sh, sid_base=next_base(),
                path="socket", log=log))
            log(f"{size}: socket path: {res['inapp_socket']['all']}")
        if "poll" not in args.skip:
            ph = max(1, args.poll_changes // 2)
            for p in (2.0, 1.0):
                log(f"{size}: in-app change-to-screen, --poll {p:g}, {args.poll_changes} changes")
                r = await part(f"poll{p:g}", lambda p=p: latency_run(
                    meta, data, run, writer, poll=p, n_list=ph, n_task=ph, sid_base=next_base(), log=log))
                res[f"inapp_poll{p:g}"] = r
                log(f"{size}: poll {p:g}: {r['all']}")
        if "operator" not in args.skip:
            oh = max(1, args.operator_changes // 2)
            log(f"{size}: operator session in tmux: {args.operator_changes} disk and "
                f"{args.socket_changes} socket changes, idle {args.idle:g} s with {args.idle_live} "
                f"running, load {args.load_rate:g}/s for {args.load_seconds:g} s")
            res["operator"] = op = await part("operator", lambda: operator_session(
                tmux, meta, data, run, writer, n_list=oh, n_task=oh,
                n_socket=max(1, args.socket_changes // 2), idle_s=args.idle, idle_live=args.idle_live,
                quiet_changes=args.quiet_changes,
                load_s=args.load_seconds, load_rate=args.load_rate, sid_base=next_base(), log=log))
            log(f"{size}: operator latency {op.get('latency', {}).get('all')}, socket "
                f"{op.get('socket', {}).get('all')}, idle {op.get('idle')}, peak RSS {op.get('vmhwm_mb')} MB")
            log(f"{size}: tau cost {op.get('tau_cost')}")
            if "load" in op:
                log(f"{size}: load {op['load']['latency']} cpu {op['load']['cpu_percent_of_core']}% "
                    f"rss {op['load']['rss_start_mb']}→{op['load']['rss_end_mb']} MB")
        if "open" not in args.skip and meta.get("biggest_session"):
            log(f"{size}: opening the biggest session ({meta['biggest_session_messages']} messages)")
            res["open_biggest"] = await part("open", lambda: open_session_run(
                data, run, meta["biggest_session"], repeats=args.open_repeats))
            log(f"{size}: open {res['open_biggest']}")
    finally:
        await writer.close()
    return res


async def bench_big(args: argparse.Namespace) -> dict[str, Any]:
    from .inapp import open_session_run

    meta = gen.ensure_store("B", args.cache, force=args.rebuild, log=log)
    work = Path(args.cache) / "work" / "B"
    data = gen.working_copy(meta, work / "data")
    run = work / "run"
    writer = await WriterProc(data, run, meta["live_phases"]).start()
    try:
        log(f"B: opening a {meta['big_session_messages']}-message session ×{args.open_repeats}")
        r = await open_session_run(data, run, meta["big_session"], repeats=args.open_repeats)
    finally:
        await writer.close()
    log(f"B: {r}")
    return r


def g(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:.1f}" if abs(v) < 100 else f"{v:.0f}"
    return f"{v}{unit}"


def lat_cell(s: dict[str, Any] | None) -> str:
    if not s or not s.get("n"):
        return "—"
    t = f" ({s['timeouts']} lost)" if s.get("timeouts") else ""
    return f"{fmt(s['p50'])} / {fmt(s['p95'])} / {fmt(s['p99'])} / {fmt(s['max'])}{t}"


def pp(s: dict[str, Any] | None) -> str:
    return "—" if not s or not s.get("n") else f"{fmt(s['p50'])} / {fmt(s['p99'])}"


def per_min(c: dict[str, Any] | None) -> str:
    if not c:
        return "—"
    kinds = ", ".join(f"{k} {fmt(v)}" for k, v in c.get("per_minute", {}).items()) or "none"
    return f"{fmt(c.get('total_per_minute'))} ({kinds})"


def socket_tables(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    out = ["### The socket path: a phase change in tau's server → on screen, ms (p50 / p95 / p99 / max)", "",
           "| size | in-app | in-app: list / task screen p50 / p99 | operator (tmux) "
           "| operator: list / task screen p50 / p99 |",
           "|---|---|---|---|---|"]
    for size, r in sizes.items():
        ia, op = g(r, "inapp_socket"), g(r, "operator", "socket")
        n_ia = f" n={ia['all']['n']}" if ia else ""
        n_op = f" n={op['all']['n']}" if op else ""
        out.append(f"| {size} | {lat_cell(g(ia, 'all'))}{n_ia} | {pp(g(ia, 'list'))} · {pp(g(ia, 'task'))} "
                   f"| {lat_cell(g(op, 'all'))}{n_op} | {pp(g(op, 'list'))} · {pp(g(op, 'task'))} |")
    out += ["", "### What the dashboard costs tau: requests per minute by type, idle CPU", "",
            "| size | running sessions (subscribed) | idle CPU, % of a core | idle: requests / min "
            "| under load: requests / min | costly (list_sessions, get_session_info, task_get, "
            "get_messages) idle / load |",
            "|---|---|---|---|---|---|"]
    for size, r in sizes.items():
        tc = g(r, "operator", "tau_cost") or {}
        idle, load = tc.get("idle"), tc.get("load")
        subs = f"{fmt(g(idle, 'live'))} ({fmt(g(idle, 'subscribers'))})" if idle else "—"
        costly = f"{fmt(g(idle, 'costly'))} / {fmt(g(load, 'costly'))}" if tc else "—"
        out.append(f"| {size} | {subs} | {fmt(g(r, 'operator', 'idle', 'cpu_percent_of_core'))} "
                   f"| {per_min(idle)} | {per_min(load)} | {costly} |")
    return "\n".join(out)


def kind_table(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    kinds = ("list/title", "list/session", "task/message", "task/exit", "task/start", "task/session")
    out = ["### The disk path by kind (in-app / operator), p50 / p99 ms", "",
           "| size | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for size, r in sizes.items():
        cells = [f"{pp(g(r, 'inapp_event', 'by_kind', k))} · {pp(g(r, 'operator', 'latency', 'by_kind', k))}"
                 for k in kinds]
        out.append(f"| {size} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def tables(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    out = ["### Change-to-screen latency, disk path, ms (p50 / p95 / p99 / max)", "",
           "| size | in-app, events | operator (tmux), events | in-app `--poll 2` | in-app `--poll 1` "
           "| p50 ratio poll 2 / events | p50 ratio poll 1 / events |",
           "|---|---|---|---|---|---|---|"]
    for size, r in sizes.items():
        ev, p2, p1 = g(r, "inapp_event", "all"), g(r, "inapp_poll2", "all"), g(r, "inapp_poll1", "all")
        ratio2 = (p2["p50"] / ev["p50"]) if ev and p2 and ev.get("p50") and p2.get("p50") else None
        ratio1 = (p1["p50"] / ev["p50"]) if ev and p1 and ev.get("p50") and p1.get("p50") else None
        n = f" n={ev['n']}" if ev else ""
        out.append(f"| {size} | {lat_cell(ev)}{n} | {lat_cell(g(r, 'operator', 'latency', 'all'))} "
                   f"| {lat_cell(p2)} | {lat_cell(p1)} | {fmt(ratio2, '×')} | {fmt(ratio1, '×')} |")
    out += ["", "### By screen (in-app events / operator), p50 / p99 ms", "",
            "| size | task list, in-app | task list, operator | task screen, in-app | task screen, operator |",
            "|---|---|---|---|---|"]
    for size, r in sizes.items():
        out.append(f"| {size} | {pp(g(r, 'inapp_event', 'list'))} | {pp(g(r, 'operator', 'latency', 'list'))} "
                   f"| {pp(g(r, 'inapp_event', 'task'))} | {pp(g(r, 'operator', 'latency', 'task'))} |")
    out += ["", "### Start, idle, load, memory", "",
            "| size | cold start p50 / max, s | open biggest session (msgs): cold / warm p50, s "
            "| idle CPU, % of a core | first change after 6 s of quiet (operator): p50 / max, ms "
            "| load: p50 / p99 ms, CPU %, RSS start→end MB | peak RSS (VmHWM), MB |",
            "|---|---|---|---|---|---|---|"]
    for size, r in sizes.items():
        cs = r.get("cold_start") or {}
        cold = (f"{cs['p50'] / 1000:.2f} / {cs['max'] / 1000:.2f}" if cs.get("n") else "—")
        ob = r.get("open_biggest") or {}
        opened = (f"({ob['messages']:,}) {fmt(g(ob, 'cold_open', 'p50') and g(ob, 'cold_open', 'p50') / 1000)} / "
                  f"{fmt(g(ob, 'warm_open', 'p50') and g(ob, 'warm_open', 'p50') / 1000)}" if ob else "—")
        ld = g(r, "operator", "load") or {}
        load = (f"{fmt(g(ld, 'latency', 'p50'))} / {fmt(g(ld, 'latency', 'p99'))}, "
                f"{fmt(ld.get('cpu_percent_of_core'))} %, {fmt(ld.get('rss_start_mb'))}→{fmt(ld.get('rss_end_mb'))}"
                if ld else "—")
        if ld and g(ld, "latency", "timeouts"):
            load += f" ({ld['latency']['timeouts']} markers never shown)"
        aq = g(r, "operator", "after_quiet") or {}
        quiet = f"{fmt(aq.get('p50'))} / {fmt(aq.get('max'))} (n={aq.get('n')})" if aq.get("n") else "—"
        out.append(f"| {size} | {cold} | {opened} | {fmt(g(r, 'operator', 'idle', 'cpu_percent_of_core'))} "
                   f"| {quiet} | {load} | {fmt(g(r, 'operator', 'vmhwm_mb'))} |")
    big = results.get("big_transcript")
    if big:
        out += ["", f"Opening a {big['messages']:,}-message transcript (store B): cold p50 "
                f"{fmt(g(big, 'cold_open', 'p50'))} ms, max {fmt(g(big, 'cold_open', 'max'))} ms; "
                f"warm p50 {fmt(g(big, 'warm_open', 'p50'))} ms."]
    return "\n".join(out) + "\n\n" + kind_table(results) + "\n\n" + socket_tables(results)


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, measured, verdict, which figure) for each target that was measured."""
    T = TARGETS
    rows: list[tuple[str, str, str, str]] = []
    sizes = results["sizes"]

    def add(name: str, value: float | None, limit: float, unit: str, source: str, less: bool = True) -> None:
        if value is None:
            return
        ok = value <= limit if less else value >= limit
        rows.append((name, f"{value:.1f}{unit} (target {'≤' if less else '≥'} {limit:g}{unit})",
                     "met" if ok else "MISSED", source))

    for size in ("M", "L"):
        if size not in sizes:
            continue
        r = sizes[size]
        for label, path in (("in-app", ("inapp_event", "all")), ("operator", ("operator", "latency", "all"))):
            s = g(r, *path)
            if s and s.get("n"):
                add(f"{size} change-to-screen p50 ({label})", s["p50"], T["latency_p50_ms"], " ms", ".".join(path))
                add(f"{size} change-to-screen p99 ({label})", s["p99"], T["latency_p99_ms"], " ms", ".".join(path))
    for size, r in sizes.items():
        ev, p2 = g(r, "inapp_event", "all"), g(r, "inapp_poll2", "all")
        if ev and p2 and ev.get("p50") and p2.get("p50"):
            add(f"{size} poll 2 s / events at p50", p2["p50"] / ev["p50"], T["poll2_over_event_p50"], "×",
                "inapp_poll2 / inapp_event", less=False)
    for size, key in (("S", "cold_start_S_s"), ("L", "cold_start_L_s")):
        p50 = g(sizes, size, "cold_start", "p50")
        add(f"{size} cold start p50", p50 / 1000 if p50 is not None else None, T[key], " s", "cold_start")
    big = results.get("big_transcript")
    if big and g(big, "cold_open", "p50") is not None:
        add("100k-message transcript opens (store B, p50)", big["cold_open"]["p50"] / 1000,
            T["open_100k_s"], " s", "big_transcript.cold_open")
    if g(sizes, "L", "open_biggest", "cold_open", "p50") is not None:
        add("100k-message transcript opens (store L, p50)", sizes["L"]["open_biggest"]["cold_open"]["p50"] / 1000,
            T["open_100k_s"], " s", "L.open_biggest.cold_open")
    for size, r in sizes.items():
        subs = g(r, "operator", "tau_cost", "idle", "subscribers")
        add(f"{size} idle CPU" + (f" ({subs} sessions subscribed)" if subs is not None else ""),
            g(r, "operator", "idle", "cpu_percent_of_core"), T["idle_cpu_percent"],
            " % of a core", "operator.idle")
        ld = g(r, "operator", "load")
        if ld:
            add(f"{size} p99 at {ld['rate_asked']:g} commits/s", g(ld, "latency", "p99"), T["load_p99_ms"],
                " ms", "operator.load")
            series = ld.get("rss_series_mb") or []
            if len(series) >= 4:
                k = max(1, len(series) // 4)
                add(f"{size} RSS growth under load (last quarter − first quarter)",
                    max(series[-k:]) - max(series[:k]), T["load_rss_growth_mb"], " MB", "operator.load")
    add("L peak RSS", g(sizes, "L", "operator", "vmhwm_mb"), T["peak_rss_L_mb"], " MB", "operator.vmhwm_mb")
    for size, r in sizes.items():
        for label, path in (("operator", ("operator", "socket", "all")), ("in-app", ("inapp_socket", "all"))):
            s = g(r, *path)
            if s and s.get("n"):
                add(f"{size} socket path p50 ({label})", s["p50"], T["socket_p50_ms"], " ms", ".".join(path))
                add(f"{size} socket path p99 ({label})", s["p99"], T["socket_p99_ms"], " ms", ".".join(path))
        for window in ("idle", "load"):
            c = g(r, "operator", "tau_cost", window)
            if c:
                add(f"{size} costly requests to tau, {window}", c["costly_per_minute"],
                    T["costly_requests_per_min"], " /min", f"operator.tau_cost.{window}")
    return rows


def verdict_table(rows: list[tuple[str, str, str, str]]) -> str:
    out = ["| target | measured | verdict |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c, _ in rows]
    return "\n".join(out)


async def amain(args: argparse.Namespace) -> int:
    from .operator import Tmux

    if shutil.which("tmux") is None and not {"cold", "operator"} <= args.skip:
        log("tmux not found: skipping the cold-start and operator measurements")
        args.skip |= {"cold", "operator"}
    this_run: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": machine(), "git": git_info(),
        "args": {k: (sorted(v) if isinstance(v, set) else str(v) if isinstance(v, Path) else v)
                 for k, v in vars(args).items()},
    }
    if args.merge is not None and args.merge.is_file():
        results = json.loads(args.merge.read_text())
        results.setdefault("runs", [{k: results.get(k) for k in ("started", "git", "args", "seconds")}])
        results.pop("verdicts", None)
        for kept in results.get("sizes", {}).values():  # a file from before --merge: all from its run
            kept.setdefault("made_by", {k: 1 for k in kept if k not in ("calm", "seconds", "store")})
    else:
        results = {"sizes": {}, "runs": []}
    results.update({k: this_run[k] for k in ("started", "machine", "git", "args")})
    results["targets"] = TARGETS
    results["runs"].append({k: this_run[k] for k in ("started", "git", "args")})
    run_no = len(results["runs"])
    tmux = Tmux()
    t_all = time.perf_counter()
    try:
        for size in args.sizes:
            t = time.perf_counter()
            try:
                new = await bench_size(size, args, tmux)
            except Exception as exc:  # noqa: BLE001 - keep the other sizes
                log(f"{size}: FAILED: {exc!r}")
                traceback.print_exc()
                new = {"error": repr(exc)}
            new["seconds"] = round(time.perf_counter() - t, 1)
            kept = results["sizes"].setdefault(size, {})
            made_by = kept.setdefault("made_by", {})  # part → the run (1-based, in "runs") that measured it
            for key, value in new.items():
                if key == "calm":
                    kept.setdefault("calm", {}).update(value)
                else:
                    kept[key] = value
                if key not in ("calm", "seconds", "store"):
                    made_by[key] = run_no
            _save(results, args.out)
        if "big" not in args.skip:
            try:
                results["big_transcript"] = await bench_big(args)
                results["big_transcript"]["made_by"] = run_no
            except Exception as exc:  # noqa: BLE001
                log(f"B: FAILED: {exc!r}")
                traceback.print_exc()
    finally:
        tmux.kill_server()
    results["seconds"] = results["runs"][-1]["seconds"] = round(time.perf_counter() - t_all, 1)
    results["machine"]["loadavg_end"] = loadavg()
    results["verdicts"] = [dict(zip(("target", "measured", "verdict", "source"), r)) for r in verdicts(results)]
    _save(results, args.out)
    print(tables(results))
    print()
    print(verdict_table(verdicts(results)))
    print(f"\nresults: {args.out}  ({results['seconds']:.0f} s)")
    return 0


def _save(results: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(REPO)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
