"""The task list's lines, drawn from their cells.

Once a second the age cells of the rows on screen move ("12s" → "13s"), and
right after a busy spell every visible row has one in seconds: re-rendering
each whole line through rich was most of the dashboard's CPU while nothing
else happened. A `RowPainter` keeps each cell's segments (cells are immutable
and shared between a row's versions, so identity says "unchanged"): a line
whose age moved renders one cell and joins the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

#: (key, label, width) of each column shown.
Columns = Sequence[tuple[str, str, int]]
#: Cells kept at most; beyond, the cache starts afresh (a screen shows ~450:
#: 50 rows of 9 cells). At 20,000 a busy list kept ~20 MB of segments for
#: cells long gone (each update of a row is new cells) before the first clear.
CACHE_LIMIT = 2_000


def fitted(cell: Text, width: int) -> Text:
    """One cell as the table draws it: a space, the text cut or padded to
    ``width`` (right-justified cells padded on the left), a space."""
    c = cell.copy()
    c.truncate(width, overflow="ellipsis")
    pad = " " * (width - c.cell_len)
    out = Text(" ", no_wrap=True, end="")
    if cell.justify == "right":
        out.append(pad)
        out.append_text(c)
    else:
        out.append_text(c)
        out.append(pad)
    out.append(" ")
    return out


def line_text(columns: Columns, title_width: int, cells: Sequence[Text]) -> Text:
    """A whole line as one Text (a heading spans the columns: not cut to the first)."""
    line = Text(no_wrap=True, end="")
    if len(cells) == 1:
        line.append(" ")
        line.append_text(cells[0])
        return line
    for (key, _, width), cell in zip(columns, cells):
        line.append_text(fitted(cell, title_width if key == "title" else width))
    return line


class RowPainter:
    """Segments of task rows, each cell rendered once while it is the same object."""

    def __init__(self) -> None:
        self._cells: dict[int, tuple[Text, int, list[Segment]]] = {}

    def clear(self) -> None:
        """Forget every cell (new colours, new columns)."""
        self._cells = {}

    def segments(self, columns: Columns, title_width: int, cells: Sequence[Text],
                 console: Console) -> list[Segment]:
        """The line's segments, equal to rendering `line_text` whole."""
        cache = self._cells
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        out: list[Segment] = []
        for (key, _, width), cell in zip(columns, cells):
            width = title_width if key == "title" else width
            hit = cache.get(id(cell))
            if hit is None or hit[0] is not cell or hit[1] != width:
                hit = (cell, width, list(fitted(cell, width).render(console)))
                cache[id(cell)] = hit
            out.extend(hit[2])
        return out
