"""``python -m bench.streaming``: watching a turn as it streams (issue 10).

The benchmark's tau (`bench.writer`, its own process) streams answers over its
real socket, each delta carrying the whole partial message as tau's do. The
dashboard runs headless in this process, so its CPU is this process's CPU.

- ``transcript``: one answer of ~4,000 tokens (16,000 characters) in 400
  deltas, 20 a second, while its transcript is open. Delta k ends in ``⟦k⟧``;
  it is on screen when a frame that shows a marker ≥ k has been painted
  (`LiveTurnView.show` with that text, then Textual's ``call_after_refresh``).
  A delta overtaken by the next one before a frame is counted at that frame:
  the time from a delta to the screen.
- ``list``: 20 sessions stream such an answer at once while the task list is
  shown: the CPU it costs.

Results go to bench/streaming.json; BENCHMARKS.md quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from tui.ui.app import SessionTopApp
from tui.ui.screens.session import TranscriptScreen
from tui.tau.store import Store
from tui.ui.widgets.live_turn import LiveTurnView

from . import gen
from .common import WriterProc, cpu_seconds, percentile

OUT = Path(__file__).resolve().parent / "streaming.json"
MARK = re.compile(r"⟦(\d+)⟧\s*$")
TARGETS = {"delta_to_screen_p50_ms": 30, "transcript_cpu_percent": 30, "list_20_cpu_percent": 20}


def _last_text(view: LiveTurnView) -> str:
    for part in reversed(view.turn.parts):
        text = getattr(part, "text", None)
        if text:
            return text[-40:]
    return ""


async def _wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def run(size: str, mode: str, n_sessions: int, deltas: int, chars: int, rate: float) -> dict[str, Any]:
    meta, data, runtime = gen.fresh_store(size, "stream")
    live = dict(meta["live_phases"])
    sids = sorted(live)[:n_sessions]
    writer = await WriterProc(data, runtime, live).start()
    if n_sessions > len(sids):  # start runs as tau does (a user message, sending request)
        sids = (await writer.do("live_count", n=n_sessions))["sids"][:n_sessions]
    painted: list[tuple[float, int]] = []
    original = LiveTurnView.show

    def show(self: LiveTurnView, turn: Any) -> None:  # noqa: ANN401
        original(self, turn)
        m = MARK.search(_last_text(self))
        if m:
            k = int(m.group(1))
            self.call_after_refresh(lambda: painted.append((time.monotonic(), k)))

    LiveTurnView.show = show  # type: ignore[method-assign]
    try:
        app = SessionTopApp(Store(data, runtime))
        async with app.run_test(size=(160, 50)) as pilot:
            await _wait(lambda: app.applied > 0, 60, "the task list")
            if mode == "transcript":
                app.open_session(sids[0])
                await _wait(lambda: isinstance(app.screen, TranscriptScreen) and app.screen.header is not None
                            and app.screen.header.is_live, 60, "the live transcript")
            await pilot.pause(1.0)
            c0, w0 = cpu_seconds(), time.monotonic()
            reply = await writer.do("stream", sids=sids, chars=chars, deltas=deltas, rate=rate)
            await pilot.pause(0.3)
            cpu, wall = cpu_seconds() - c0, time.monotonic() - w0
            t0s: list[float] = reply["t0s"]
    finally:
        LiveTurnView.show = original  # type: ignore[method-assign]
        await writer.close()
    out: dict[str, Any] = {"mode": mode, "sessions": len(sids), "deltas": deltas, "chars": chars,
                           "rate_per_s": rate, "stream_seconds": round(reply["seconds"], 2),
                           "cpu_percent": round(100 * cpu / wall, 1)}
    if mode == "transcript":
        lat: list[float] = []
        missed = 0
        for k, t0 in enumerate(t0s):
            at = min((t for t, m in painted if m >= k and t >= t0), default=None)
            if at is None:
                missed += 1
            else:
                lat.append((at - t0) * 1000)
        out.update(delta_to_screen_ms={"p50": round(percentile(lat, 50), 1), "p95": round(percentile(lat, 95), 1),
                                       "p99": round(percentile(lat, 99), 1), "max": round(max(lat), 1)},
                   frames=len(painted), never_shown=missed)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.streaming", description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="S", choices=sorted(gen.SIZES))
    ap.add_argument("--deltas", type=int, default=400)
    ap.add_argument("--chars", type=int, default=16_000, help="≈4 characters a token")
    ap.add_argument("--rate", type=float, default=20.0, help="deltas a second")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    results = {"targets": TARGETS, "size": args.size,
               "transcript": asyncio.run(run(args.size, "transcript", 1, args.deltas, args.chars, args.rate)),
               "list_20": asyncio.run(run(args.size, "list", 20, args.deltas, args.chars, args.rate))}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
