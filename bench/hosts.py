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
2. **many**: ``--hosts`` hosts (10) at once, each its own copy of the store
   and its own tau, through the one sshd: the time from the app's start to a
   painted list with every host's rows; then an idle window: this process's
   CPU (the dashboard), each feed's on "the host", the ssh clients', and the
   bytes each link read; then the dashboard alone on one such store, locally
   and idle for as long: the cost a feed is compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from . import gen
from .common import REPO, WriterProc, cpu_seconds, now, summary_ms
from .scenario import PHASES

DEFAULT_OUT = Path(__file__).resolve().parent / "hosts.json"
SIZE = (160, 50)
#: issue 23's numbers (ms; CPU as % of a core).
TARGETS = {"phase_p50_ms": 40, "phase_p99_ms": 120, "stored_p50_ms": 60, "first_rows_s": 2.0,
           "local_idle_pct": 2.0}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] hosts: {msg}", file=sys.stderr, flush=True)


def row_text(app: Any, host: str, task: int) -> str | None:
    from tui.ui.widgets.task_table import TaskTable

    for table in app.screen.query(TaskTable):
        with suppress(KeyError):
            return " ".join(c.plain for c in table.get_row(f"t:{task}@{host}"))
    return None


def frame_lines(screen: Any) -> list[str]:
    return [strip.text for strip in screen._compositor.render_strips()]  # noqa: SLF001


class Painted:
    """Each snapshot the task list applies is checked against what is awaited;
    once the widgets show it, the first painted frame that shows it too
    (found by its marker) gives the time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.waiting: list[tuple[Any, asyncio.Future[float]]] = []
        screen = app.screen
        orig = screen.apply

        def apply(data: Any, status: Any, refresh: Any) -> None:
            orig(data, status, refresh)
            for check, future in list(self.waiting):
                if not future.done() and check(app):
                    screen.call_after_refresh(self._painted, check, future, screen)

        screen.apply = apply

    def _painted(self, check: Any, future: asyncio.Future[float], screen: Any) -> None:
        if future.done():
            return
        if check(self.app, frame_lines(screen)):
            future.set_result(now())
        elif screen.is_attached:
            screen.set_timer(0.002, lambda: screen.call_after_refresh(self._painted, check, future, screen))

    def expect(self, check: Any) -> asyncio.Future[float]:
        """``check(app, frame=None)``: the widgets (or a frame's lines) show it."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.append((check, future))
        future.add_done_callback(lambda f: self.waiting.remove((check, f)))
        if check(self.app):
            self.app.screen.call_after_refresh(self._painted, check, future, self.app.screen)
        return future


def on_row(host: str, task: int, marker: str, text: str):  # type: ignore[no-untyped-def]
    """The task's row shows ``text`` (widgets: by its key; a frame: the line with its marker)."""
    def check(app: Any, frame: list[str] | None = None) -> bool:
        if frame is None:
            row = row_text(app, host, task)
            return row is not None and marker in row and text in row
        return any(marker in line and text in line for line in frame)
    return check


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


def source_for(sshd: Any, host: dict[str, Any]) -> Any:
    from tests.test_remote_ssh import SESSIONTOP
    from tui.remote.source import RemoteSource
    from tui.remote.ssh import SshTransport

    transport = SshTransport(host["name"], "gpu1", ssh_options=("-F", str(sshd.ssh_config)),
                             command=str(SESSIONTOP), data_dir=str(host["data"]), runtime_dir=str(host["run"]))
    return RemoteSource(transport)


async def wait_for(cond: Any, timeout: float, step: float = 0.005) -> bool:
    end = now() + timeout
    while now() < end:
        if cond():
            return True
        await asyncio.sleep(step)
    return bool(cond())


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


def feed_pids(data_dirs: list[Path]) -> dict[str, int]:
    """The feeds reading each store (on "the host": this machine), by data dir."""
    out: dict[str, int] = {}
    wanted = {str(d).encode(): str(d) for d in data_dirs}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        with suppress(OSError):
            words = (d / "cmdline").read_bytes().split(b"\0")
            if b"feed" in words:
                for w in words:
                    if w in wanted:
                        out[wanted[w]] = int(d.name)
    return out


def descendants(root: int) -> list[int]:
    """Every process under ``root`` now (sshd: its sessions, their shells and feeds)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with suppress(OSError, ValueError, IndexError):
                text = (d / "stat").read_text()
                parent[int(d.name)] = int(text[text.rindex(")") + 2:].split()[1])
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid]
        out += kids
        todo += kids
    return out


def _cpu(pid: int | str) -> float | None:
    try:
        return cpu_seconds(pid)
    except OSError:
        return None


async def many(sshd: Any, hosts: list[dict[str, Any]], idle_s: float) -> dict[str, Any]:
    """Every host at once: first rows of all, then an idle window."""
    from tui.hosts import Hosts
    from tui.ui.app import SessionTopApp

    names = [h["name"] for h in hosts]
    sources = [source_for(sshd, h) for h in hosts]
    app = SessionTopApp(Hosts(None, sources))
    out: dict[str, Any] = {"hosts": len(hosts), "size": hosts[0]["meta"]["size"]}
    first: dict[str, float] = {}  # each host's whole list in
    for s in sources:
        s.live.add_listener(lambda s=s: s.mirror.complete and first.setdefault(s.host, now()))
    t_start, cpu_start = now(), cpu_seconds()
    async with app.run_test(size=SIZE):
        def all_rows(app_: Any, frame: list[str] | None = None) -> bool:
            snap = getattr(app_.screen, "snapshot", None)
            if snap is None or {t.host for t in snap.tasks} != set(names):
                return False
            return frame is None or sum(" tasks · " in line for line in frame[:2]) > 0
        if not await wait_for(lambda: app.screen is not None and hasattr(app.screen, "snapshot"), 60):
            raise RuntimeError("no task list")
        t_painted = await asyncio.wait_for(Painted(app).expect(all_rows), 120)
        out["first_rows_all_s"] = round(t_painted - t_start, 3)
        # Whose CPU the start took: this process (the dashboard), the ssh clients
        # here, and "the hosts" (sshd's sessions and the feeds: on real hosts, theirs).
        ssh_here = sum(_cpu(s.link.pid) or 0.0 for s in sources if s.link.pid)
        there = sum(c for c in (_cpu(p) for p in descendants(sshd.proc.pid)) if c is not None)
        out["start_cpu_s"] = {"dashboard": round(cpu_seconds() - cpu_start, 2), "ssh_clients": round(ssh_here, 2),
                              "hosts_sshd_and_feeds": round(there, 2)}
        out["first_rows_each_s"] = {h: round(t - t_start, 3) for h, t in sorted(first.items())}
        # The start-up reads are over (each feed's usage sums, the app's first looks).
        await asyncio.sleep(10)
        pids = feed_pids([h["data"] for h in hosts])
        ssh_pids = {s.host: s.link.pid for s in sources}
        cpu0 = {"self": _cpu("self"), **{d: _cpu(p) for d, p in pids.items()},
                **{f"ssh:{h}": _cpu(p) for h, p in ssh_pids.items() if p}}
        bytes0 = {s.host: s.link.bytes_in for s in sources}
        kinds0 = {s.host: dict(s.link.bytes_by_kind) for s in sources}
        t0 = now()
        await asyncio.sleep(idle_s)
        dt = now() - t0
        cpu1 = {"self": _cpu("self"), **{d: _cpu(p) for d, p in pids.items()},
                **{f"ssh:{h}": _cpu(p) for h, p in ssh_pids.items() if p}}

        def pct(key: str) -> float | None:
            a, b = cpu0.get(key), cpu1.get(key)
            return None if a is None or b is None else round((b - a) / dt * 100, 2)
        out["idle_window_s"] = round(dt, 1)
        out["local_idle_pct"] = pct("self")
        out["feed_idle_pct"] = {h["name"]: pct(str(h["data"])) for h in hosts}
        out["ssh_client_idle_pct"] = {h: pct(f"ssh:{h}") for h in ssh_pids}
        out["idle_bytes_per_minute"] = {s.host: round((s.link.bytes_in - bytes0[s.host]) * 60 / dt)
                                        for s in sources}
        out["idle_kinds"] = {s.host: {k: v - kinds0[s.host].get(k, 0) for k, v in s.link.bytes_by_kind.items()
                                      if v != kinds0[s.host].get(k, 0)} for s in sources[:1]}
        out["states"] = {s.host: s.link_state.state for s in sources}
    return out


async def dashboard_idle(host: dict[str, Any], idle_s: float) -> dict[str, Any]:
    """The dashboard alone on one such store, locally: its idle CPU."""
    from tui.tau.store import Store
    from tui.ui.app import SessionTopApp

    app = SessionTopApp(Store(host["data"], host["run"]))
    async with app.run_test(size=SIZE):
        await wait_for(lambda: app.applied >= 1, 120, 0.05)
        await wait_for(lambda: not app.store.usage_pending() and not app._counting, 120, 0.05)  # noqa: SLF001
        await asyncio.sleep(10)
        c0, t0 = cpu_seconds(), now()
        await asyncio.sleep(idle_s)
        dt = now() - t0
        return {"idle_pct": round((cpu_seconds() - c0) / dt * 100, 2), "window_s": round(dt, 1)}


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
            log(f"{args.hosts} hosts at once, then idle {args.idle:g} s")
            results["many"] = await many(sshd, hosts, args.idle)
            log(f"many: {json.dumps(results['many'])}")
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
    ap.add_argument("--idle", type=float, default=None, help="idle window, s (default 60; --quick 10)")
    ap.add_argument("--skip", default="", help="latency, many")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results (default bench/hosts.json)")
    args = ap.parse_args(argv)
    args.changes = args.changes or (24 if args.quick else 200)
    args.idle = args.idle or (10.0 if args.quick else 60.0)
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
