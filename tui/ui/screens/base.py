"""What every data screen has: a query for the app, and ways to take its answer.

The seam between the data layer and the screens is typed: a screen is a
`DataScreen[S]`, its query an `Asks[S]`, and `apply` is handed that ``S`` (no
isinstance on the way in). What a screen asks of the app is `Dashboard`, its
one typed accessor (`DataScreen.dashboard`): the screens never import the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar, cast

from textual.dom import DOMNode
from textual.screen import Screen

from ...model.queries import Asks, RefreshState
from ...model.snapshots import StoreStatus, TaskDetail, Transcript
from ..widgets.status import StatusLine

#: The snapshot a screen shows.
S = TypeVar("S")


class Dashboard(Protocol):
    """What the screens ask of the app (`tui.ui.app.SessionTopApp` is one)."""

    clock: Callable[[], float]

    def request_refresh(self, *, force: bool = False, event: bool = False,
                        through_pause: bool = False) -> None: ...

    def open_task(self, task_id: int, host: str = "") -> None: ...

    def open_session(self, session_id: str, title: str = "", host: str = "") -> None: ...

    async def read_task_detail(self, task_id: int, host: str = "") -> TaskDetail | None: ...

    async def read_older(self, session_id: str, before_id: int, limit: int = 200,
                         host: str = "") -> Transcript: ...


def dashboard(node: DOMNode) -> Dashboard:
    """The app ``node`` runs in, as the screens see it."""
    return cast(Dashboard, node.app)


class DataScreen(Screen[None], Generic[S]):
    """A screen fed by the app's refresher.

    Subclasses say what they show (`data_query`) and take the snapshot
    (`apply`). They never read the store themselves.
    """

    def data_query(self) -> Asks[S] | None:
        raise NotImplementedError

    @property
    def dashboard(self) -> Dashboard:
        return dashboard(self)

    def apply(self, data: S, status: StoreStatus, refresh: RefreshState) -> None:
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
        return self.dashboard.clock()

    def on_screen_resume(self) -> None:
        self.dashboard.request_refresh(force=True)
