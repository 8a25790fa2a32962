"""Remote hosts (issue 23): a change on a remote tau to the local screen, through ssh.

``python -m bench.hosts`` (also part of ``python -m bench``; ``--skip hosts``
leaves it out). Everything is real: a private OpenSSH server on 127.0.0.1
with keys made here (tests/test_remote_ssh.py's `Sshd`: host keys checked,
BatchMode), the remote command this checkout's ``sessiontop feed``, the
remote tau the benchmark's own (``bench.writer`` in its own process, serving
tau's socket with the running sessions' phases in its memory) over a copy of
the generated store, and the dashboard the real app, headless, in this
process. The host is what ``--host``/``[hosts.NAME]`` make: a `RemoteSource`
over `SshTransport`, behind `tui.hosts.Hosts`.

1. **latency**: on one host, a phase change in its tau's memory (the
   socket path) and a stored change (a title committed), each timed from the
   writer's clock just before the change to the first painted frame that
   shows it on the task list (the same monotonic clock; a frame is checked
   as the inapp benchmark checks them); the bytes the link read for each.
2. **many** (`bench.hosts_many`): ``--hosts`` hosts (10) at once, each its
   own copy of the store and its own tau, through the one sshd, ``--starts``
   times (3): the time from the app's start to a painted list with every
   host's rows (their first screens), and to every host's whole list, with
   whose CPU the start took; after the last, an idle window: this process's
   CPU (the dashboard), each feed's on "the host", the ssh clients', and the
   bytes each link read; then the same starts with the hosts' shells
   skipping this machine's ~/.bashrc (``pyenv init``: a tenth of a second a
   login); then the dashboard alone on one such store, locally and idle for
   as long: the cost a feed is compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from . import gen
from .common import REPO, WriterProc, now, summary_ms
from .hosts_many import dashboard_idle, starts
from .hosts_probe import SIZE, Painted, on_row, source_for, wait_for
from .scenario import PHASES

DEFAULT_OUT = Path(__file__).resolve().parent / "hosts.json"
#: issue 23's numbers (ms; CPU as % of a core).
TARGETS = {"phase_p50_ms": 40, "phase_p99_ms": 120, "stored_p50_ms": 60, "first_rows_s": 2.0,
           "local_idle_pct": 2.0}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] hosts: {msg}", file=sys.stderr, flush=True)


async def start_hosts(names: list[str], size: str, work: Path, log_: Any = log) -> list[dict[str, Any]]:
    """A copy of the store and its tau for each host."""
    meta = gen.ensure_store(size, gen.DEFAULT_CACHE, log=log_)
    out = []
    for name in names:
        data = gen.working_copy(meta, work / name / "data")
        run = work / name / "run"
        run.mkdir(parents=True, exist_ok=True)
        writer = await WriterProc(data, run, meta["live_phases"]).start()
        out.append({"name": name, "meta": meta, "data": data, "run": run, "writer": writer})
    return out


async def latency(sshd: Any, host: dict[str, Any], n_phase: int, n_stored: int, seed: int = 5) -> dict[str, Any]:
    """Phase and stored changes on one host, to the painted list, through ssh."""
    from tui.hosts import Hosts
    from tui.ui.app import SessionTopApp

    rng = random.Random(seed)
    meta, writer, name = host["meta"], host["writer"], host["name"]
    task, sid = int(meta["target_task"]), meta["target_session"]
    source = source_for(sshd, host)
    app = SessionTopApp(Hosts(None, [source]))
    out: dict[str, Any] = {"host": name, "size": meta["size"]}
    t_start = now()
    async with app.run_test(size=SIZE) as pilot:
        if not await wait_for(lambda: source.mirror.complete and app.applied > 1, 120, 0.02):
            raise RuntimeError(f"{name}: no rows through ssh ({source.link_state})")
        out["first_rows_s"] = round(now() - t_start, 3)  # one host: the app's start, ssh, the feed's first read
        painted = Painted(app)
        marker = "HB00000"
        ready = painted.expect(on_row(name, task, marker, "thinking"))
        await writer.do("title", task=task, title=f"{marker} bench target")
        await writer.do("reset", sid=sid, status="completed", phase="thinking")
        await writer.do("message", sid=sid, text="bench: starting the hosts run")
        await asyncio.wait_for(ready, 60)
        await pilot.pause()
        out["rtt_ms"] = summary_ms([await source.ping() for _ in range(20)])
        link = source.link
        phase_s, phase_bytes, phase_all, phase = [], [], [], "thinking"
        for _ in range(n_phase):
            phase = PHASES[(PHASES.index(phase) + 1) % len(PHASES)]
            seen = painted.expect(on_row(name, task, marker, phase[:12]))
            before, deltas = link.bytes_in, link.bytes_by_kind.get("delta", 0)
            reply = await writer.do("phase", sid=sid, phase=phase)
            try:
                phase_s.append(await asyncio.wait_for(seen, 30) - reply["t0"])
            except asyncio.TimeoutError:
                seen.cancel()
                continue
            phase_bytes.append(link.bytes_by_kind.get("delta", 0) - deltas)
            await asyncio.sleep(rng.uniform(0.03, 0.15))  # pacing; its event lands meanwhile
            phase_all.append(link.bytes_in - before)
        stored_s, stored_bytes, stored_deltas = [], [], []
        for i in range(n_stored):
            marker = f"HB{i + 1:05d}"
            seen = painted.expect(on_row(name, task, marker, ""))
            before, deltas = link.bytes_in, link.bytes_by_kind.get("delta", 0)
            reply = await writer.do("title", task=task, title=f"{marker} bench target")
            try:
                stored_s.append(await asyncio.wait_for(seen, 30) - reply["t0"])
            except asyncio.TimeoutError:
                seen.cancel()
                continue
            stored_deltas.append(link.bytes_by_kind.get("delta", 0) - deltas)
            await asyncio.sleep(rng.uniform(0.03, 0.15))
            stored_bytes.append(link.bytes_in - before)
        out["phase"] = summary_ms(phase_s, timeouts=n_phase - len(phase_s))
        out["stored"] = summary_ms(stored_s, timeouts=n_stored - len(stored_s))
        out["bytes_per_phase_change"] = {"delta": _median(phase_bytes), "with_its_events": _median(phase_all)}
        # (with all: its events, and the detail line's read of the task under the
        # cursor, which is the target: its row changed)
        out["bytes_per_stored_change"] = {"delta": _median(stored_deltas), "with_all_it_caused": _median(stored_bytes)}
        out["bytes_by_kind"] = dict(link.bytes_by_kind)
    return out


def _median(xs: list[int]) -> float | None:
    return sorted(xs)[len(xs) // 2] if xs else None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.test_remote_ssh import Sshd

    work = gen.DEFAULT_CACHE / "work" / "hosts"
    shutil.rmtree(work / "ssh", ignore_errors=True)  # keys made afresh each run
    sshd = Sshd(work / "ssh", sshd_extra="MaxStartups 100").start()
    names = [f"gpu{i:02d}" for i in range(1, args.hosts + 1)]
    hosts: list[dict[str, Any]] = []
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "targets": TARGETS,
                               "args": {k: v for k, v in vars(args).items() if k != "out"}}
    try:
        log(f"{args.hosts} copies of {args.size} and their tau")
        hosts = await start_hosts(names, args.size, work)
        if "latency" not in args.skip:
            log(f"latency through ssh: {args.changes} phase changes, {args.changes // 2} stored")
            results["latency"] = await latency(sshd, hosts[0], args.changes, args.changes // 2)
            log(f"latency: {json.dumps(results['latency'])}")
        if "many" not in args.skip:
            log(f"{args.hosts} hosts at once, {args.starts} times, then idle {args.idle:g} s")
            results["many"] = await starts(sshd, hosts, args.starts, args.idle)
            log(f"many: {json.dumps(results['many'])}")
            # The hosts' shells as a host's non-interactive shell usually is: this
            # machine's ~/.bashrc (which a login's bash sources) runs `pyenv init`,
            # ~0.1 s of CPU a login; sshd's SetEnv SHLVL=1 makes bash skip it.
            shutil.rmtree(work / "ssh-quiet", ignore_errors=True)
            quiet = Sshd(work / "ssh-quiet", sshd_extra="MaxStartups 100\nSetEnv SHLVL=1").start()
            try:
                log(f"{args.hosts} hosts at once, {args.starts} times, the hosts' shells skipping ~/.bashrc")
                results["many_quiet_shells"] = await starts(quiet, hosts, args.starts, None)
                log(f"many, quiet shells: {json.dumps(results['many_quiet_shells'])}")
            finally:
                quiet.stop()
            results["dashboard_alone"] = await dashboard_idle(hosts[0], args.idle)
            log(f"the dashboard alone on one store: {results['dashboard_alone']}")
    finally:
        for h in hosts:
            await h["writer"].close()
        sshd.stop()
    results["verdicts"] = verdicts(results)
    return results


def verdicts(r: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    lat, many_ = r.get("latency", {}), r.get("many", {})

    def say(key: str, value: float | None, target: float) -> None:
        if value is not None:
            out[key] = f"{value} (target ≤ {target}): {'met' if value <= target else 'MISSED'}"
    say("phase_p50_ms", lat.get("phase", {}).get("p50"), TARGETS["phase_p50_ms"])
    say("phase_p99_ms", lat.get("phase", {}).get("p99"), TARGETS["phase_p99_ms"])
    say("stored_p50_ms", lat.get("stored", {}).get("p50"), TARGETS["stored_p50_ms"])
    say("first_rows_s", many_.get("first_rows_all_s"), TARGETS["first_rows_s"])
    say("first_rows_s_quiet_shells", r.get("many_quiet_shells", {}).get("first_rows_all_s"),
        TARGETS["first_rows_s"])
    say("local_idle_pct", many_.get("local_idle_pct"), TARGETS["local_idle_pct"])
    alone = r.get("dashboard_alone", {}).get("idle_pct")
    feeds = [v for v in many_.get("feed_idle_pct", {}).values() if v is not None]
    if alone is not None and feeds:
        out["feed_idle_pct_max"] = (f"{max(feeds)} (target ≤ the dashboard's own {alone}): "
                                    f"{'met' if max(feeds) <= alone else 'MISSED'}")
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.hosts", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few changes, a short idle window")
    ap.add_argument("--changes", type=int, default=None, help="phase changes (default 200; --quick 24); "
                                                              "half as many stored changes")
    ap.add_argument("--hosts", type=int, default=10, help="hosts at once (default 10)")
    ap.add_argument("--size", default="M", help="the store each host has (default M)")
    ap.add_argument("--starts", type=int, default=None, help="starts of all hosts at once (default 3; --quick 1)")
    ap.add_argument("--idle", type=float, default=None, help="idle window, s (default 60; --quick 10)")
    ap.add_argument("--skip", default="", help="latency, many")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results (default bench/hosts.json)")
    args = ap.parse_args(argv)
    args.changes = args.changes or (24 if args.quick else 200)
    args.idle = args.idle or (10.0 if args.quick else 60.0)
    args.starts = args.starts or (1 if args.quick else 3)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.size = args.size.upper()
    return args


def save(results: dict[str, Any], out: Path) -> None:
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    for key, text in results["verdicts"].items():
        print(f"hosts: {key}: {text}")
    print(f"hosts: results in {out}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    save(asyncio.run(run(args)), args.out)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
