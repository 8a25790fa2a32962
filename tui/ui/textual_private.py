"""Every private Textual name sessiontop leans on, in one place (Textual 8.2.8).

Textual has no public way to do these; each is a break on upgrade, so they
live here and nowhere else in `tui/`, and `tests/test_textual_private.py`
fails loudly when Textual's shape under them changes.
"""

from __future__ import annotations

from textual.app import App


def write_to_terminal(app: App[None], sequence: str) -> None:
    """Write ``sequence`` straight to the terminal, under the screen (OSC 9 /
    777, the bell). Textual's own `App.bell` writes through the same private
    driver; nothing public writes anything else."""
    driver = app._driver  # noqa: SLF001
    if driver is not None:
        driver.write(sequence)
        driver.flush()
