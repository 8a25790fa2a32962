"""The garbage collector's schedule, set for a long-lived dashboard over a big store.

The store's caches hold hundreds of thousands of objects that live as long as
the store. CPython's cyclic collector would walk all of them in each full
collection: on a 10,000-task store a 60 to 130 ms pause every second or two
while changes stream in, which was most of the slowest changes to screen.
Two measures (see BENCHMARKS.md):

- `settle` (after a big read) moves what exists into the permanent
  generation: later collections skip it. Objects that die later are still
  freed by reference counting; only cyclic garbage among them would stay.
- `tune` makes collections rarer: the young generation is collected every
  5,000 net allocations instead of 700, and a full collection waits for 100
  middle ones instead of 10. Cyclic garbage (a closed screen's widgets) is
  still collected, a little later. Until the first read has settled, rarer
  still (every 200,000): the first read of a large store allocates a few
  hundred thousand objects that all live on, and collecting among them cost
  the first screen 50 to 80 ms.
"""

from __future__ import annotations

import gc

#: (young, middle, full) thresholds; CPython's defaults are (700, 10, 10).
THRESHOLDS = (5000, 20, 100)
#: Until the first read has settled (see the module's docstring).
STARTING = (200_000, 20, 100)


def tune() -> None:
    """Collect less often (see the module's docstring)."""
    gc.set_threshold(*STARTING)


def settle() -> None:
    """Exclude everything alive now from later collections; collect as usual after."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
