"""Sustained load through tmux: commits at a fixed rate, the pane polled for title markers."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .common import WriterProc, cpu_seconds, loadavg, now, status_kb, summary_ms
from .tmux import Control


async def pane_load(ctl: Control, pid: int, writer: WriterProc, task: int, *, rate: float,
                seconds: float, marker_every: int = 10, keep: list[str] | None = None) -> dict[str, Any]:
    """Sustained commits; title markers ``LDnnnnn`` on the target row are timed by
    polling the pane every 5 ms (a marker counts as shown when it or a later one is)."""
    pat = re.compile(r"LD(\d{5})")
    t0_of: dict[int, float] = {}
    shown_at: dict[int, float] = {}
    samples: list[dict[str, float]] = []
    state = {"seen": 0, "done": None}
    c0, tb = cpu_seconds(pid), now()
    rss0 = status_kb(pid)["VmRSS"]
    await writer.send("load", rate=rate, seconds=seconds, task=task, marker_every=marker_every,
                      prefix="LD", keep=keep or [])

    async def reader() -> None:
        while True:
            msg = await writer.line()
            if msg.get("done"):
                state["done"] = msg
                return
            t0_of[int(msg["seq"])] = float(msg["t0"])

    async def sampler() -> None:
        while True:
            await asyncio.sleep(1.0)
            samples.append({"t": now() - tb, "cpu": cpu_seconds(pid), "rss_kb": status_kb(pid)["VmRSS"]})

    rd = asyncio.create_task(reader())
    sp = asyncio.create_task(sampler())
    try:
        deadline = None
        while True:
            t = now()
            lines = await ctl.capture()
            seq = 0
            for ln in lines:
                m = pat.search(ln)
                if m:
                    seq = max(seq, int(m.group(1)))
            if seq > state["seen"]:
                for k in range(state["seen"] + 1, seq + 1):
                    shown_at.setdefault(k, t)
                state["seen"] = seq
            done = state["done"]
            if done is not None:
                if deadline is None:
                    deadline = now() + 60
                if state["seen"] >= done.get("last_seq", 0) or now() > deadline:
                    break
            await asyncio.sleep(0.005)
    finally:
        sp.cancel()
        if not rd.done():
            rd.cancel()
    c1, te = cpu_seconds(pid), now()
    done = state["done"] or {}
    lat = {k: shown_at[k] - t0 for k, t0 in t0_of.items() if k in shown_at}
    seqs = sorted(lat)
    third = max(1, len(seqs) // 3)
    rss_series = [round(s["rss_kb"] / 1024, 1) for s in samples]
    return {
        "rate_asked": rate,
        "writer": {k: done.get(k) for k in ("commits", "seconds", "rate", "late_max_ms", "kinds",
                                            "live_end")},
        "markers": len(t0_of), "markers_shown": len(lat),
        "latency": summary_ms(list(lat.values()), timeouts=len(t0_of) - len(lat)),
        "p50_first_third_ms": summary_ms([lat[k] for k in seqs[:third]]).get("p50"),
        "p50_last_third_ms": summary_ms([lat[k] for k in seqs[-third:]]).get("p50"),
        "cpu_percent_of_core": round(100 * (c1 - c0) / (te - tb), 1),
        "rss_start_mb": round(rss0 / 1024, 1),
        "rss_end_mb": round(status_kb(pid)["VmRSS"] / 1024, 1),
        "rss_series_mb": rss_series,
        "loadavg_after": loadavg(),
    }
