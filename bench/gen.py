"""Build tau-schema stores of a given size, fast, and cache them by size.

Sizes (tasks / sessions / messages):

- ``S``: the demo's size, 20 / 80 / 2,000;
- ``M``: 2,000 / 10,000 / 200,000;
- ``L``: 10,000 / 100,000 / 1,000,000, one of its sessions holding 100,000 messages;
- ``B``: S plus one session of 100,000 messages (the "open a big transcript" store);
- ``T``: a tiny store for the smoke test.

The stores look like a real tau installation (TAU_STORE.md): tau's DDL from
`tui.tau.ddl`, messages of every role with usage and tool calls, a few KB of
system prompt per session, task history and relations, sessions interleaved in
time, some children without a task, some bare ``task_sessions`` rows whose
session is gone, and a handful of running sessions: on disk their phase is what
tau persists while a run goes on (``sending request``, TAU.md §5.1); their real
phase is in ``meta["live_phases"]``, for tau's server to hold in memory
(`serve`, or the benchmark's writer process). Both files end in WAL mode.

What the stores say is `bench.content`; how one is built, `bench.gen_build`.
A built store is kept under ``<cache>/<size>-g<version>/`` with a
``meta.json`` saying what is where (the benchmark's target task and session,
the big session); a rerun reuses it.

``python -m bench.gen --sizes S,M,L [--cache DIR] [--force]`` builds ahead of time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from tui.demo import TauServer
from tui.tau.ddl import TASKS_DB, TAU_DB

from .content import WIRE
from .gen_build import GEN_VERSION, SizeSpec, build

__all__ = ["DEFAULT_CACHE", "GEN_VERSION", "SIZES", "SizeSpec", "build", "ensure_store",
           "fresh_store", "serve", "working_copy"]

DEFAULT_CACHE = Path("/tmp/sessiontop-bench")


SIZES: dict[str, SizeSpec] = {
    "T": SizeSpec("T", tasks=6, sessions=16, messages=200, live=2, days=1, open_share=0.7),
    "S": SizeSpec("S", tasks=20, sessions=80, messages=2_000, live=6, days=3, open_share=0.6),
    "M": SizeSpec("M", tasks=2_000, sessions=10_000, messages=200_000, live=40, days=120),
    "L": SizeSpec("L", tasks=10_000, sessions=100_000, messages=1_000_000, live=100, days=365,
                  big_session=100_000, open_share=0.08),
    "B": SizeSpec("B", tasks=20, sessions=80, messages=102_000, live=6, days=30,
                  big_session=100_000, open_share=0.6),
}


# --- the cache ---------------------------------------------------------------------------


def store_dir(size: str, cache: Path = DEFAULT_CACHE) -> Path:
    return Path(cache) / f"{size}-g{GEN_VERSION}"


def load_meta(size: str, cache: Path = DEFAULT_CACHE) -> dict[str, Any] | None:
    meta = store_dir(size, cache) / "meta.json"
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text())
    except ValueError:
        return None


def ensure_store(size: str, cache: Path = DEFAULT_CACHE, *, force: bool = False,
                 seed: int = 1, log=print) -> dict[str, Any]:  # noqa: ANN001
    """The cached store of ``size``, built if missing. Returns its meta (with
    ``data_dir``)."""
    meta = None if force else load_meta(size, cache)
    if meta is not None:
        return meta
    target = store_dir(size, cache)
    tmp = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    t0 = time.perf_counter()
    meta = build(SIZES[size], tmp / "data", seed=seed)
    meta["build_seconds"] = round(time.perf_counter() - t0, 2)
    meta["data_dir"] = str(target / "data")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    log(f"built {size} in {meta['build_seconds']} s: {meta['counts']} "
        f"({meta['bytes'] / 1e6:.0f} MB) at {target}")
    return meta


def working_copy(meta: dict[str, Any], dest: Path) -> Path:
    """A copy of the cached store to change (the benchmark writes into its copy)."""
    src = Path(meta["data_dir"])
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in (TASKS_DB, TAU_DB):
        shutil.copyfile(src / name, dest / name)
    return dest


def fresh_store(size: str, name: str) -> tuple[dict[str, Any], Path, Path]:
    """A working copy of the cached store of ``size`` (built if missing), and an
    empty runtime dir for the benchmark's tau to serve its socket in."""
    meta = ensure_store(size, DEFAULT_CACHE, log=lambda m: print(m, file=sys.stderr))
    work = DEFAULT_CACHE / "work" / f"{name}-{size}"
    data = working_copy(meta, work / "data")
    runtime = work / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    return meta, data, runtime


def serve(meta: dict[str, Any], data_dir: Path, runtime_dir: Path) -> TauServer:
    """tau's server for a generated store: the demo's stand-in on a real socket
    in ``runtime_dir``, holding the running sessions' phases in its memory."""
    server = TauServer(runtime_dir, data_dir).start()
    for sid, label in meta.get("live_phases", {}).items():
        server.set_phase(sid, WIRE[label])
    return server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gen", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="S,M,L")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    ap.add_argument("--out", type=Path, default=None,
                    help="build one size into this directory instead of the cache")
    args = ap.parse_args(argv)
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        if size not in SIZES:
            ap.error(f"unknown size {size!r} (known: {', '.join(SIZES)})")
        if args.out is not None:
            t0 = time.perf_counter()
            meta = build(SIZES[size], args.out)
            print(f"built {size} in {time.perf_counter() - t0:.1f} s into {args.out}: {meta['counts']}")
        else:
            meta = ensure_store(size, args.cache, force=args.force)
            print(json.dumps({k: meta[k] for k in ("size", "counts", "bytes", "build_seconds",
                                                   "target_task", "target_session", "big_session")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
