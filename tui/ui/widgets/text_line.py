"""A Static that is only re-laid-out when its text really changed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class TextLine(Static):
    """Headings, notes and field lines that screens re-render on every snapshot.

    `Static.update` always asks for a layout pass of the whole screen (tens of
    milliseconds on a big store); most snapshots leave these lines as they were,
    so `show` skips the update when the text is the same.
    """

    def __init__(self, content: str | Text = "", **kwargs: object) -> None:
        super().__init__(content, **kwargs)  # type: ignore[arg-type]
        self._shown: Text | str | None = content if content else None

    def show(self, content: Text | str) -> bool:
        """Show ``content``; False (and no work) if it is already shown."""
        if self._shown is not None and type(content) is type(self._shown) and content == self._shown:
            return False
        self._shown = content
        self.update(content, layout=not self._fixed_size())
        return True

    def _fixed_size(self) -> bool:
        """Whether the stylesheet fixes this line's size (``height: 1``), so new
        text cannot move anything else and a repaint is enough."""
        height, width = self.styles.height, self.styles.width
        return height is not None and height.is_cells and (width is None or not width.is_auto)
