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


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


async def busy_share(seconds: float = 2.0) -> float:
    """The share of the machine's CPUs busy over the next ``seconds`` (0..1),
    whoever uses them: other people's test suites on a shared machine."""
    b0, t0 = _cpu_ticks()
    await asyncio.sleep(seconds)
    b1, t1 = _cpu_ticks()
    return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0


async def wait_calm(threshold: float, max_wait: float, log=print) -> dict[str, Any]:  # noqa: ANN001
    """Wait (at most ``max_wait`` s) until at most ``threshold`` of the machine
    is busy over 2 s, with this benchmark idle; say how busy it was."""
    t = time.monotonic()
    share = await busy_share()
    said = False
    while share > threshold and time.monotonic() - t < max_wait:
        if not said:
            log(f"machine {share:.0%} busy (others' work): waiting for ≤ {threshold:.0%}, "
                f"at most {max_wait:g} s")
            said = True
        share = await busy_share()
    return {"busy_share": round(share, 2), "waited_s": round(time.monotonic() - t, 1),
            "calm": share <= threshold, "loadavg": loadavg()}


def now() -> float:
    return time.monotonic()


# --- what others run meanwhile ---------------------------------------------------------


def _proc_table() -> dict[int, tuple[float, int, bytes]]:
    """pid → (utime+stime s, parent pid, command line) of every process now."""
    out: dict[int, tuple[float, int, bytes]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            text = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        out[int(d.name)] = ((int(fields[11]) + int(fields[12])) / CLK_TCK, int(fields[1]), cmd)
    return out


class OthersMeter:
    """The CPU that processes other than this benchmark's used over a window:
    other people's test suites on a shared machine. Ours: this process and its
    descendants (the writer, tmux clients) and the private tmux server with its
    descendants (the CLI). Processes that both started and ended inside the
    window are missed."""

    def __init__(self, tmux_socket: str = "") -> None:
        self.tmux_socket = tmux_socket.encode()
        self._t0 = 0.0
        self._before: dict[int, tuple[float, int, bytes]] = {}

    def _ours(self, table: dict[int, tuple[float, int, bytes]]) -> set[int]:
        roots = {os.getpid()}
        if self.tmux_socket:
            roots |= {pid for pid, (_, _, cmd) in table.items()
                      if self.tmux_socket in cmd and cmd.startswith(b"tmux")}
        children: dict[int, list[int]] = {}
        for pid, (_, ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        ours, todo = set(), list(roots)
        while todo:
            pid = todo.pop()
            if pid in ours:
                continue
            ours.add(pid)
            todo += children.get(pid, [])
        return ours

    def start(self) -> OthersMeter:
        self._t0 = time.monotonic()
        self._before = _proc_table()
        return self

    def stop(self) -> dict[str, Any]:
        after = _proc_table()
        dt = time.monotonic() - self._t0
        ours = self._ours(after) | self._ours(self._before)
        used = 0.0
        for pid, (cpu, _, _) in after.items():
            if pid in ours:
                continue
            before = self._before.get(pid)
            used += cpu - (before[0] if before is not None else 0.0)
        ncpu = os.cpu_count() or 1
        return {"seconds": round(dt, 1),
                "others_share": round(used / dt / ncpu, 3) if dt > 0 else None,
                "loadavg": loadavg()}
