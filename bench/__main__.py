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
from .report import TARGETS, state_table, tables, verdicts

DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"



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
    ap.add_argument("--idle", type=float, default=None, help="idle CPU window, s (default 60; --quick 5)")
    ap.add_argument("--quiet-changes", type=int, default=None,
                    help="changes each after --quiet-gap s of quiet, after the one that ends the idle "
                         "window, in the operator session (default 2; --quick 1)")
    ap.add_argument("--quiet-gap", type=float, default=None,
                    help="the quiet before each of them, s (default 60; --quick 5)")
    ap.add_argument("--load-seconds", type=float, default=None, help="load duration, s (default 60; --quick 5)")
    ap.add_argument("--load-rate", type=float, default=100.0, help="commits a second under load (100)")
    ap.add_argument("--cold-repeats", type=int, default=None, help="cold starts per size (default 5; --quick 2)")
    ap.add_argument("--open-repeats", type=int, default=None, help="transcript opens (default 5; --quick 2)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: cold, inapp (disk "
                                               "path in-app), socket (socket path in-app), poll, "
                                               "operator, open, big, hosts (remote hosts through "
                                               "ssh: bench/hosts.py, its own bench/hosts.json)")
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
                              ("idle", 60.0, 5.0), ("quiet_gap", 60.0, 5.0),
                              ("load_seconds", 60.0, 5.0), ("cold_repeats", 5, 2),
                              ("open_repeats", 5, 2), ("quiet_changes", 2, 1)):
        if getattr(args, name) is None:
            setattr(args, name, quick if q else full)
    args.sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    for s in args.sizes:
        if s not in gen.SIZES:
            ap.error(f"unknown size {s!r}")
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


async def bench_size(size: str, args: argparse.Namespace, tmux: Any) -> dict[str, Any]:
    from .inapp import latency_run
    from .opening import open_session_run
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
                quiet_changes=args.quiet_changes, quiet_gap=args.quiet_gap,
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
    from .opening import open_session_run

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
        if "hosts" not in args.skip:  # issue 23 (bench/hosts.py): its own results file
            from . import hosts as hosts_bench

            try:
                hargs = hosts_bench.parse_args(["--quick"] if args.quick else [])
                hosts_bench.save(await hosts_bench.run(hargs), hargs.out)
            except Exception as exc:  # noqa: BLE001
                log(f"hosts: FAILED: {exc!r}")
                traceback.print_exc()
    finally:
        tmux.kill_server()
    results["seconds"] = results["runs"][-1]["seconds"] = round(time.perf_counter() - t_all, 1)
    results["machine"]["loadavg_end"] = loadavg()
    results["verdicts"] = verdicts(results)
    _save(results, args.out)
    print(tables(results))
    print()
    print(state_table(results))
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
