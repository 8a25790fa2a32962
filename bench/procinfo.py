"""What a running CLI costs, per thread: CPU, wake-ups, names (py-spy), a profile.

Read from ``/proc/PID/task/*/{stat,status}``; the names and the optional raw
profile of the idle window (``BENCH_SPY=FILE``) come from py-spy when it is
installed (beside the interpreter or on PATH).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path


def thread_files(pid: int, name: str) -> Iterator[tuple[str, str]]:
    """(thread id, text of /proc/PID/task/TID/NAME) for each thread still there."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            yield task.name, (task / name).read_text()
        except OSError:
            continue


def thread_cpu(pid: int) -> dict[str, float]:
    """Thread id → its utime + stime so far, s."""
    out: dict[str, float] = {}
    for tid, text in thread_files(pid, "stat"):
        fields = text[text.rindex(")") + 2:].split()
        out[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def thread_wakeups(pid: int) -> dict[str, int]:
    """Thread id → its voluntary context switches so far."""
    out: dict[str, int] = {}
    for tid, text in thread_files(pid, "status"):
        for line in text.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                out[tid] = int(line.split()[1])
    return out


def py_spy() -> str | None:
    """py-spy on PATH or beside the interpreter (None: not installed)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return exe if Path(exe).exists() else None


async def thread_names(pid: int) -> dict[str, str]:
    """Thread id → what it is (its Python name and where it waits), from one
    ``py-spy dump`` after the window; empty without py-spy. Only to label the
    per-thread figures."""
    exe = py_spy()
    if exe is None:
        return {}
    proc = await asyncio.create_subprocess_exec(exe, "dump", "-j", "-p", str(pid),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    raw, _ = await proc.communicate()
    try:
        threads = json.loads(raw)
    except ValueError:
        return {}
    out: dict[str, str] = {}
    for t in threads:
        frames = t.get("frames") or [{}]
        where = next((f.get("name") for f in frames if "threading" not in f.get("filename", "")), "?")
        out[str(t.get("os_thread_id"))] = f"{t.get('thread_name')}:{where}@{t.get('os_thread_id')}"
    return out


async def spy(pid: int, seconds: float) -> asyncio.subprocess.Process | None:
    """With BENCH_SPY=FILE (and py-spy beside the interpreter or on PATH): a raw
    profile of the idle window, to see what the dashboard does while nothing
    happens. Off by default; not part of the figures."""
    out = os.environ.get("BENCH_SPY")
    exe = py_spy()
    if not out or exe is None:
        return None
    return await asyncio.create_subprocess_exec(
        exe, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", os.environ.get("BENCH_SPY_RATE", "200"),
        "--nonblocking", "-f", "raw", "-o", out,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
