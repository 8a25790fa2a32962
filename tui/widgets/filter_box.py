"""The `/` box: hidden and unfocusable until asked for, so it never eats keys."""

from __future__ import annotations

from textual.widgets import Input


class FilterBox(Input):
    def __init__(self, placeholder: str, **kwargs: object) -> None:
        super().__init__(placeholder=placeholder, disabled=True, classes="filter", **kwargs)  # type: ignore[arg-type]

    @property
    def is_open(self) -> bool:
        return not self.disabled

    def open(self) -> None:
        self.disabled = False
        self.add_class("-open")
        self.focus()

    def close(self) -> bool:
        """Empty and hide the box; True if there was anything to close."""
        was_open = self.is_open or bool(self.value)
        self.value = ""
        self.remove_class("-open")
        self.disabled = True
        return was_open
