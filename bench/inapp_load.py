"""Sustained load inside the app (``python -m bench.profile --what load``): the
headless app while the writer commits at a fixed rate; the benchmark's own
load figures come through tmux (`bench.pane_load`)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.tau.store import Store
from tui.ui.app import SessionTopApp

from .common import WriterProc, cpu_seconds, loadavg, now, status_kb, summary_ms
from .inapp import SIZE, Probe, WidgetView, wait_until


async def load_run(meta: dict[str, Any], data_dir: Path, runtime_dir: Path, writer: WriterProc, *,
                   rate: float = 100.0, seconds: float = 30.0, marker_every: int = 10,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    """``rate`` commits a second for ``seconds`` while the task list is on screen.

    Every ``marker_every``-th commit retitles the target task ``LDnnnnn``; a
    marker counts as shown when the row shows it or a later one (the screen
    has caught up past it). CPU and RSS of this process (the app, plus the
    small cost of the probe) are sampled every second.
    """
    task = int(meta["target_task"])
    app = SessionTopApp(Store(data_dir, runtime_dir))
    t0_of: dict[int, float] = {}
    shown_at: dict[int, float] = {}
    state = {"seen": 0}
    pat = re.compile(r"LD(\d{5})")
    samples: list[dict[str, float]] = []
    async with app.run_test(size=SIZE) as pilot:
        probe = Probe(app, task, verify_frames=False)
        await wait_until(lambda: app.applied >= 1, 120)
        probe.attach(app.screen)

        def on_apply(screen: Any) -> None:
            row = WidgetView(screen, task).row("")
            m = pat.search(row or "")
            if m and int(m.group(1)) > state["seen"]:
                seq = int(m.group(1))
                state["seen"] = seq
                screen.call_after_refresh(painted, seq)

        def painted(seq: int) -> None:
            t = now()
            for k in range(1, seq + 1):
                shown_at.setdefault(k, t)

        probe.on_apply = on_apply
        await pilot.pause()
        await asyncio.sleep(1.0)
        cpu0, t_begin = cpu_seconds(), now()
        rss0 = status_kb()["VmRSS"]
        await writer.send("load", rate=rate, seconds=seconds, task=task, marker_every=marker_every,
                          prefix="LD")
        summary: dict[str, Any] = {}

        async def sampler() -> None:
            while True:
                await asyncio.sleep(1.0)
                samples.append({"t": now() - t_begin, "cpu": cpu_seconds(), "rss_kb": status_kb()["VmRSS"]})

        sampling = asyncio.create_task(sampler())
        try:
            while True:
                msg = await writer.line()
                if msg.get("done"):
                    summary = msg
                    break
                t0_of[int(msg["seq"])] = float(msg["t0"])
            last = summary.get("last_seq", 0)
            await wait_until(lambda: state["seen"] >= last and last in shown_at, 60, step=0.01)
        finally:
            sampling.cancel()
        cpu1, t_end = cpu_seconds(), now()
        rss1 = status_kb()["VmRSS"]
    lat = {k: shown_at[k] - t0 for k, t0 in t0_of.items() if k in shown_at}
    seqs = sorted(lat)
    third = max(1, len(seqs) // 3)
    first = [lat[k] for k in seqs[:third]]
    lastt = [lat[k] for k in seqs[-third:]]
    busy = t_end - t_begin
    cpu_series = [(s["t"], s["cpu"]) for s in samples]
    return {
        "rate_asked": rate, "writer": {k: summary.get(k) for k in ("commits", "seconds", "rate",
                                                                   "late_max_ms", "kinds")},
        "markers": len(t0_of), "markers_shown": len(lat),
        "latency": summary_ms(list(lat.values()), timeouts=len(t0_of) - len(lat)),
        "p50_first_third_ms": summary_ms(first).get("p50"),
        "p50_last_third_ms": summary_ms(lastt).get("p50"),
        "cpu_percent_of_core": round(100 * (cpu1 - cpu0) / busy, 1) if busy > 0 else None,
        "rss_start_mb": round(rss0 / 1024, 1), "rss_end_mb": round(rss1 / 1024, 1),
        "rss_max_mb": round(max([s["rss_kb"] for s in samples] + [rss0, rss1]) / 1024, 1),
        "rss_series_mb": [round(s["rss_kb"] / 1024, 1) for s in samples],
        "cpu_series_s": [round(c, 2) for _, c in cpu_series],
        "loadavg_after": loadavg(),
    }
