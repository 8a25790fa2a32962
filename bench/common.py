"""Shared pieces: the writer process client, percentiles, /proc readings."""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def child_env() -> dict[str, str]:
    """The environment for our subprocesses: the repo importable, no user config."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("TEXTUAL", None)
    return env


class WriterProc:
    """``python -m bench.writer`` in a subprocess, driven over its pipes: the
    benchmark's tau. With ``runtime_dir`` it also serves tau's socket there,
    holding ``live`` ({session id: phase label}) as running, the way tau's
    server keeps its sessions' live state in memory."""

    def __init__(self, data_dir: Path, runtime_dir: Path | None = None,
                 live: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.runtime_dir = runtime_dir
        self.live = dict(live or {})
        self.proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> WriterProc:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.writer", str(self.data_dir),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            cwd=str(REPO), env=child_env(), limit=1 << 20)
        await self.do("ping")
        if self.runtime_dir is not None:
            await self.do("serve", runtime=str(self.runtime_dir), live=self.live)
        return self

    async def requests(self) -> dict[str, Any]:
        """What tau's server has received so far (counts by type), its subscribers
        and connections now, and how many sessions run."""
        return await self.do("requests")

    async def send(self, op: str, **kw: Any) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"op": op, **kw}) + "\n").encode())
        await self.proc.stdin.drain()

    async def line(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        raw = await self.proc.stdout.readline()
        if not raw:
            raise RuntimeError("the writer process ended")
        return json.loads(raw)

    async def do(self, op: str, **kw: Any) -> dict[str, Any]:
        async with self._lock:
            await self.send(op, **kw)
            reply = await self.line()
        if not reply.get("ok", True):
            raise RuntimeError(reply.get("error"))
        return reply

    async def close(self) -> None:
        if self.proc is None:
            return
        try:
            await self.send("quit")
            await asyncio.wait_for(self.proc.wait(), 20)
        except (RuntimeError, BrokenPipeError, ConnectionResetError, asyncio.TimeoutError):
            self.proc.kill()
            await self.proc.wait()
        self.proc = None


# --- numbers ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank-interpolated percentile (numpy's default 'linear')."""
    if not values:
        return math.nan
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * q / 100.0
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary_ms(seconds: list[float], *, timeouts: int = 0) -> dict[str, Any]:
    """p50/p95/p99/max in ms of latencies given in seconds."""
    ms = [s * 1000 for s in seconds]
    out: dict[str, Any] = {"n": len(ms), "timeouts": timeouts}
    if ms:
        out.update({"p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1),
                    "p99": round(percentile(ms, 99), 1), "max": round(max(ms), 1),
                    "min": round(min(ms), 1), "mean": round(sum(ms) / len(ms), 1)})
    return out


# --- /proc ---------------------------------------------------------------------------


def cpu_seconds(pid: int | str = "self") -> float:
    """utime + stime of a process (all its threads), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kb(pid: int | str = "self") -> dict[str, int]:
    """VmRSS, VmHWM, … of a process, in kB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Vm"):
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                out[key] = int(parts[0])
    return out


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def now() -> float:
    return time.monotonic()
