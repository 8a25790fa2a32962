"""What every data screen has: a query for the app, and ways to take its answer."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from ...model.snapshots import StoreStatus
from ...model.queries import Query, RefreshState
from ..widgets.status import StatusLine


class DataScreen(Screen[None]):
    """A screen fed by the app's refresher.

    Subclasses say what they show (`data_query`) and take the snapshot
    (`apply`). They never read the store themselves.
    """

    def data_query(self) -> Query | None:
        raise NotImplementedError

    def apply(self, data: Any, status: StoreStatus, refresh: RefreshState) -> None:
        """Take a fresh snapshot; subclasses update their widgets in place."""
        self.apply_status(status, refresh)

    def apply_status(self, status: StoreStatus, refresh: RefreshState) -> None:
        for line in self.query(StatusLine):
            line.show(status, refresh, self.now())

    def tick(self, now: float) -> None:
        """Once a second: re-render what depends on the clock only."""
        for line in self.query(StatusLine):
            line.tick(now)

    def now(self) -> float:
        return self.app.clock()  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        self.app.request_refresh(force=True)  # type: ignore[attr-defined]
