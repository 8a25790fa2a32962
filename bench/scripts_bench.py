"""``python -m bench.scripts_bench``: the scripts' path (issue 12).

- ``list --json`` on a store of a given size, tau's server (the benchmark's,
  `bench.writer`) serving its running sessions: wall time of the whole
  command, interpreter start included, as a script pays it.
- ``watch --json``: from a change (a phase change in tau's server memory,
  pushed over its socket; a turn's end written to disk) to its JSON line read
  on watch's stdout. ``t0`` is taken by the writer just before the change.

Results go to bench/scripts.json; BENCHMARKS.md quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from . import gen
from .common import REPO, WriterProc, child_env, percentile

OUT = Path(__file__).resolve().parent / "scripts.json"
DEBUG = bool(__import__("os").environ.get("SCRIPTS_BENCH_DEBUG"))
PHASES = ("thinking", "working", "running tools")


async def _cli(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui", *args, cwd=str(REPO), env=child_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, limit=1 << 24)


async def list_times(data: Path, runtime: Path, repeats: int, *task_ids: str) -> dict[str, Any]:
    times, size = [], 0
    for _ in range(repeats):
        t = time.monotonic()
        proc = await _cli("list", "--json", *task_ids, "--data-dir", str(data), "--runtime-dir", str(runtime))
        out, err = await proc.communicate()
        times.append(time.monotonic() - t)
        if proc.returncode != 0:
            raise RuntimeError(err.decode()[-500:])
        size = len(out)
    doc = json.loads(out)
    return {"seconds_median": round(statistics.median(times), 3), "seconds_max": round(max(times), 3),
            "repeats": repeats, "tasks": len(doc["tasks"]), "bytes": size}


async def watch_latency(data: Path, runtime: Path, writer: WriterProc, live: list[str],
                        changes: int) -> dict[str, Any]:
    for sid in live:  # each a running turn whose previous one completed
        await writer.do("reset", sid=sid, status="completed", phase=PHASES[0])
    proc = await _cli("watch", "--json", "--data-dir", str(data), "--runtime-dir", str(runtime))
    assert proc.stdout is not None and proc.stderr is not None
    t = time.monotonic()
    while True:
        line = await asyncio.wait_for(proc.stderr.readline(), 120)
        if not line:
            raise RuntimeError("watch ended before its baseline")
        if b"watching" in line:
            break
    start_s = time.monotonic() - t
    lat: dict[str, list[float]] = {"socket": [], "disk": []}
    phase = {sid: PHASES[0] for sid in live}  # as reset left them
    try:
        for i in range(changes):
            sid = live[i % len(live)]
            if i % 2 == 0:
                at = PHASES.index(phase[sid]) if phase[sid] in PHASES else -1
                phase[sid] = PHASES[(at + 1) % len(PHASES)]  # a new one
                want, reply = "session_phase", await writer.do("phase", sid=sid, phase=phase[sid])
            else:
                # a turn ends (socket and disk), then it starts again as tau starts runs
                want, reply = "session_exit", await writer.do("exit", sid=sid, status="error")
            seen: list[bytes] = []
            while True:
                try:
                    raw = await asyncio.wait_for(proc.stdout.readline(), 30)
                except asyncio.TimeoutError:
                    raise RuntimeError(f"no {want} for {sid} in 30 s; saw {seen[-5:]}") from None
                seen.append(raw)
                got = time.monotonic()
                ev = json.loads(raw)
                if ev.get("kind") == want and ev.get("session_id") == sid:
                    break
            lat["socket" if want == "session_phase" else "disk"].append((got - reply["t0"]) * 1000)
            if DEBUG: print(i, want, round((got - reply["t0"]) * 1000, 1), file=sys.stderr)
            if want == "session_exit":
                # The next turn starts as a socket chat does (preparing, then
                # the user's message), so it ends with an exit status again:
                # the same one, as a session failing twice in a row.
                await writer.do("start", sid=sid)
                phase[sid] = "preparing"
            await asyncio.sleep(0.3)
    finally:
        proc.terminate()
        await proc.wait()

    def summary(v: list[float]) -> dict[str, float]:
        return {"n": len(v), "p50": round(percentile(v, 50), 1), "p95": round(percentile(v, 95), 1),
                "max": round(max(v), 1)}

    return {"start_to_baseline_s": round(start_s, 3), "phase_pushed_ms": summary(lat["socket"]),
            "turn_end_on_disk_ms": summary(lat["disk"])}


async def run(size: str, repeats: int, changes: int) -> dict[str, Any]:
    meta, data, runtime = gen.fresh_store(size, "scripts")
    live = dict(meta["live_phases"])
    writer = await WriterProc(data, runtime, live).start()
    try:
        out = {"size": size, "counts": meta["counts"],
               "list_json_one_task": await list_times(data, runtime, repeats, str(meta["target_task"])),
               "list_json": await list_times(data, runtime, repeats)}
        try:
            out["watch_json"] = await watch_latency(data, runtime, writer, sorted(live)[:8], changes)
        except RuntimeError as exc:  # recorded, not hidden: BENCHMARKS.md says what it means
            out["watch_json"] = {"error": str(exc)}
    finally:
        await writer.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scripts_bench")
    ap.add_argument("--sizes", default="S,L")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    results = {s: asyncio.run(run(s, args.repeats, args.changes)) for s in args.sizes.split(",")}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
