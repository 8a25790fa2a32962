"""Summarise a ``py-spy record --format raw`` file: inclusive share per function.

``python -m bench.spysum FILE [--filter tui/,sqlite] [--top 40] [--thread main]``

py-spy samples every thread (``--idle`` to include waiting); each line of the raw
format is ``frame;frame;… count``. A function's inclusive share is the share of
samples with it anywhere on the stack (counted once per sample).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.spysum")
    ap.add_argument("file", type=Path)
    ap.add_argument("--filter", default="", help="comma-separated substrings a frame must contain")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--self", dest="self_", action="store_true", help="self time instead of inclusive")
    args = ap.parse_args(argv)
    incl: Counter[str] = Counter()
    total = 0
    subs = [s for s in args.filter.split(",") if s]
    for line in args.file.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", re.sub(r"\s+", " ", f.strip()))
                  for f in stack.split(";") if f.strip()]
        if args.self_:
            frames = frames[-1:]
        seen = set()
        for f in frames:
            if subs and not any(s in f for s in subs):
                continue
            if f not in seen:
                seen.add(f)
                incl[f] += n
    print(f"{total} samples")
    for f, n in incl.most_common(args.top):
        print(f"{100 * n / total:6.1f}%  {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
