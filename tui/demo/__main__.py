"""``python -m tui.demo``: run the simulated fleet and its tau socket until signalled.

Why: the demo must be runnable as its own process, as tau is, so that a
dashboard in another process (or a test) can watch its files and its socket,
and stop it the way tau is stopped (SIGTERM: a clean shutdown).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from .fleet import DemoFleet


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator and the server in this process until signalled or timed out."""
    ap = argparse.ArgumentParser(prog="python -m tui.demo", description="Run a simulated tau fleet.")
    ap.add_argument("--data-dir", type=Path, required=True, help="where tasks.db and tau.db go")
    ap.add_argument("--runtime-dir", type=Path, default=None,
                    help="where tau.sock and tau.pid go (default DATA/run)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--speed", type=float, default=1.0, help="changes per second, relative")
    ap.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    args = ap.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fleet = DemoFleet(args.data_dir, seed=args.seed, speed=args.speed, runtime_dir=args.runtime_dir)
    fleet.start()
    print(f"demo fleet: data {fleet.data_dir}, socket {fleet.socket_path}, pid {os.getpid()}",
          file=sys.stderr, flush=True)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    try:
        while not stop.is_set():
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                break
            stop.wait(left)
    finally:
        fleet.stop()
    if fleet.error is not None:
        print(f"demo fleet failed: {fleet.error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
