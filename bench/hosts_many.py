"""Ten hosts at once (issue 23): the first rows of all, whose CPU the start took, idle.

Part of ``python -m bench.hosts`` (see its docstring and BENCHMARKS.md). A
start is the real app, headless, with every host's `RemoteSource` through
the one sshd; it is timed from the app's start to the first painted frame of
the task list holding rows of every host (each host's first screen: a long
list comes first screen first, the rest in the next delta), and on to every
host's whole list. The machine is shared: its busy CPU in the window is
split into this process, the ssh clients, "the hosts" (sshd's sessions,
their shells, the feeds), the hosts' tau (the writers) and the rest.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from .common import cpu_seconds, now
from .hosts_probe import SIZE, Painted, _cpu, busy_seconds, descendants, feed_pids, source_for, wait_for


def all_rows(names: list[str]):  # type: ignore[no-untyped-def]
    """The task list holds rows of every host (widgets), and a frame shows it painted."""
    def check(app: Any, frame: list[str] | None = None) -> bool:
        snap = getattr(app.screen, "snapshot", None)
        if snap is None or {t.host for t in snap.tasks} != set(names):
            return False
        return frame is None or sum(" tasks · " in line for line in frame[:2]) > 0
    return check


async def start_all(sshd: Any, hosts: list[dict[str, Any]], idle_s: float | None) -> dict[str, Any]:
    """Every host at once: first rows of all (and whose CPU the start took),
    each host's whole list; then, with ``idle_s``, an idle window."""
    from tui.hosts import Hosts
    from tui.ui.app import SessionTopApp

    names = [h["name"] for h in hosts]
    sources = [source_for(sshd, h) for h in hosts]
    app = SessionTopApp(Hosts(None, sources))
    out: dict[str, Any] = {"hosts": len(hosts), "size": hosts[0]["meta"]["size"]}
    first: dict[str, float] = {}  # each host's first screen in (its first snapshot)
    whole: dict[str, float] = {}  # each host's whole list in
    for s in sources:
        def seen(s: Any = s) -> None:
            if s.mirror.complete:
                first.setdefault(s.host, now())
            if s.mirror.whole:
                whole.setdefault(s.host, now())
        s.live.add_listener(seen)
    os.sync()  # the stores' copies written out: no writeback in the window
    await asyncio.sleep(2)
    writers = [h["writer"].proc.pid for h in hosts]
    writers0, busy0 = sum(_cpu(p) or 0.0 for p in writers), busy_seconds()
    t_start, cpu_start = now(), cpu_seconds()
    async with app.run_test(size=SIZE):
        if not await wait_for(lambda: app.screen is not None and hasattr(app.screen, "snapshot"), 60):
            raise RuntimeError("no task list")
        t_painted = await asyncio.wait_for(Painted(app).expect(all_rows(names)), 120)
        out["first_rows_all_s"] = round(t_painted - t_start, 3)
        # Whose CPU the start took: this process (the dashboard), the ssh clients
        # here, "the hosts" (sshd's sessions, their shells and the feeds: on real
        # hosts, theirs), the hosts' tau (the writers), and the rest of the
        # machine (other work on it: the machine is shared).
        ssh_here = sum(_cpu(s.link.pid) or 0.0 for s in sources if s.link.pid)
        there = sum(c for c in (_cpu(p) for p in descendants(sshd.proc.pid)) if c is not None)
        cpu = {"dashboard": cpu_seconds() - cpu_start, "ssh_clients": ssh_here, "hosts_sshd_and_feeds": there,
               "hosts_tau": sum(_cpu(p) or 0.0 for p in writers) - writers0}
        cpu["machine_busy"] = busy_seconds() - busy0
        cpu["others"] = cpu["machine_busy"] - sum(v for k, v in cpu.items() if k != "machine_busy")
        out["start_cpu_s"] = {k: round(v, 2) for k, v in cpu.items()}
        out["first_rows_each_s"] = {h: round(t - t_start, 3) for h, t in sorted(first.items())}
        await wait_for(lambda: len(whole) == len(sources), 60, 0.02)
        out["whole_list_each_s"] = {h: round(t - t_start, 3) for h, t in sorted(whole.items())}
        out["whole_lists_all_s"] = round(max(whole.values()) - t_start, 3) if len(whole) == len(sources) else None
        if idle_s:
            out.update(await idle(sources, hosts, idle_s))
    return out


async def starts(sshd: Any, hosts: list[dict[str, Any]], n: int, idle_s: float | None) -> dict[str, Any]:
    """`start_all` ``n`` times (the last with the idle window): each start's
    figures, the median's at the top."""
    runs = [await start_all(sshd, hosts, idle_s if i == n - 1 else None) for i in range(n)]
    runs_by_time = sorted(runs, key=lambda r: r["first_rows_all_s"])
    out = {**runs[-1], **{k: v for k, v in runs_by_time[n // 2].items() if k in STARTUP}}
    out["starts"] = [{k: r[k] for k in STARTUP} for r in runs]
    return out


#: What each start measures (the median start's figures are the run's).
STARTUP = ("first_rows_all_s", "whole_lists_all_s", "start_cpu_s", "first_rows_each_s", "whole_list_each_s")


async def idle(sources: list[Any], hosts: list[dict[str, Any]], idle_s: float) -> dict[str, Any]:
    """After the start-up reads (each feed's usage sums, the app's first looks):
    CPU here, of each feed and ssh client, and the bytes each link read."""
    out: dict[str, Any] = {}
    await asyncio.sleep(10)
    pids = feed_pids([h["data"] for h in hosts])
    ssh_pids = {s.host: s.link.pid for s in sources}

    def sample() -> dict[str, float | None]:
        return {"self": _cpu("self"), **{d: _cpu(p) for d, p in pids.items()},
                **{f"ssh:{h}": _cpu(p) for h, p in ssh_pids.items() if p}}
    cpu0 = sample()
    bytes0 = {s.host: s.link.bytes_in for s in sources}
    kinds0 = {s.host: dict(s.link.bytes_by_kind) for s in sources}
    t0 = now()
    await asyncio.sleep(idle_s)
    dt = now() - t0
    cpu1 = sample()

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
