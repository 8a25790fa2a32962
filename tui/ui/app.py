"""The sessiontop application: screens on top, one store and one watcher below.

Data flows one way. The watcher worker turns file events into "dirty" marks;
the refresher worker, on each mark, asks the current screen what it shows (a
`tui.model.queries` query), checks ``PRAGMA data_version`` so that a change which is not
data costs nothing, reads just that from the store, and hands the immutable
snapshot to the screen, which updates its widgets in place. Marks that arrive
during a read coalesce into one more read.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches

from .. import __version__
from . import heap
from .alerts import AlertToasts
from .app_hosts import HostsMixin
from .app_notify import NotifyMixin
from .commands import TaskCommands
from .read_requests import ReadRequests
from .app_settings import SettingsMixin
from ..command.config import Config
from ..notify.notifier import Notifier
from ..notify.settings import NotifySettings
from ..notify.settings import load as load_notify_settings
from ..notify.settings import parse as parse_notify
from .screens.base import Dashboard, DataScreen, S
from .screens.tasks import TaskListScreen
from ..hosts import Hosts
from ..hosts.waits import Left
from ..tau.store import Store, StoreError
from .terminal import TerminalMixin, install_exit_signals
from ..model.queries import RefreshState, TaskListQuery
from ..tau.watcher import poll_ticks, watch_store


#: After a file event with no visible commit, look again this much later (s):
#: inotify tells of the commit's first write, a moment before SQLite publishes it.
RECHECK_DELAYS = (0.002, 0.01, 0.04, 0.12, 0.3, 0.6, 1.0)
#: The time between two re-reads that show something, on average (s) ...
MIN_CYCLE_S = 0.04
#: ... and how many may follow each other after a quiet spell.
READ_BURST = 3
#: The notifier starts after the first screen, or this long after mounting (s).
NOTIFIER_START_S = 2.0
#: A task-list read this long (s) filled the store's caches: freeze the heap after it.
BIG_READ_S = 0.25
#: Long sessions' usage sums start this long after the screen showed the rest (s)
#: and pause this long between chunks.
USAGE_START_DELAY = 0.2
USAGE_PAUSE = 0.005


def stylesheet_paths() -> list[Path]:
    """The .tcss files: inside the installed package, else the repo's styles/."""
    try:
        packaged = resources.files("tui") / "styles"
        if packaged.is_dir():
            return sorted(Path(str(p)) for p in packaged.iterdir() if str(p).endswith(".tcss"))
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover
        pass
    repo = Path(__file__).resolve().parents[2] / "styles"
    return sorted(repo.glob("*.tcss"))


class SessionTopApp(TerminalMixin, SettingsMixin, HostsMixin, NotifyMixin, App[None]):
    """k9s for tau sessions: tasks → a task's sessions → a session's transcript."""

    TITLE = "sessiontop"
    SUB_TITLE = f"v{__version__}"
    CSS_PATH = stylesheet_paths()  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {TaskCommands}
    #: Every key is declared once, here and in each screen's BINDINGS: the footer
    #: shows the description, `?` help the tooltip (rows with the same tooltip
    #: share a line), README's key table lists them all (tests/test_keys_documented.py).
    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="quit (from every screen, help and ! too)"),
        Binding("ctrl+z", "suspend_process", "Suspend", show=False,
                tooltip="suspend (fg resumes, the screen redrawn)"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="this help (Esc or ? closes it)"),
        Binding("r", "reload", "Re-read", tooltip="re-read the store now (paused too)"),
        Binding("p", "pause", "Pause", tooltip="pause / resume live refresh (the footer says which)"),
        Binding("p", "resume", "Resume"),  # the footer shows the one that applies
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True,
                tooltip="quit (from every screen, help and ! too)"),
        Binding("exclamation_mark", "notifications", "Alerts", key_display="!",
                tooltip="notifications: what needs attention, then the log, newest first"),
    ]

    def __init__(
        self,
        store: Store | Hosts,
        *,
        poll: float | None = None,
        clock: Callable[[], float] = time.time,
        tick: bool = True,
        watch: bool = True,
        force_polling: bool | None = None,
        notify: NotifySettings | None = None,
        config: Config | None = None,
    ) -> None:
        """``store``: this machine's, or every host's (`tui.hosts.Hosts`); ``notify``:
        the ``[notify]`` settings (None: from ``config``, else the config file)."""
        super().__init__()
        self.store = store
        #: Transitions told to the operator (toast, terminal, hook) and the stalls.
        if notify is None:  # the [notify] table of the config file (--config's, if given)
            notify = parse_notify(config.notify) if config is not None else load_notify_settings()
        self.notifier = Notifier(self.local_store(store), notify, toast=self._toast,
                                 write=self._write_terminal)
        #: One notification toast at a time, none over a modal (tui/ui/alerts.py).
        self._alerts = AlertToasts(self)
        self.poll = poll
        self.clock = clock
        self._tick_enabled = tick
        self._watch_enabled = watch
        self._force_polling = force_polling
        #: What the refresher is asked to read next (requests merge until it reads).
        self._requests = ReadRequests()
        #: The screens that have had a snapshot: paused, only a new one is read.
        self._fed: weakref.WeakSet[DataScreen] = weakref.WeakSet()
        self._stop = asyncio.Event()
        self._seen: dict[object, tuple[object, object, int]] = {}
        #: The config file's settings with the flags on top (tui.command.config).
        self.config = config or Config()
        self.set_reactive(SessionTopApp.paused, self.config.paused)
        self._counting = False
        self._settled = False
        self.refresh_state = RefreshState(mode="polling" if poll else "watching",
                                          poll_seconds=poll)
        #: Bumped after every snapshot a screen has applied (tests and the
        #: benchmark wait on it).
        self.applied = 0
        #: The signal (SIGTERM, SIGHUP) that ended the app, if one did.
        self.exit_signal = None
        self._undo_signals: Callable[[], None] | None = None

    # --- lifecycle --------------------------------------------------------------------

    async def on_mount(self) -> None:
        heap.tune()
        self._undo_signals = install_exit_signals(self._exit_on_signal)
        # A phase change pushed by tau's server reaches the screen without
        # waiting for the disk: the tracker asks for a re-read of the screen.
        self.store.live.add_listener(self._live_changed)
        self._attach_hosts()
        self._apply_config_theme()
        self._alerts.start()
        if isinstance(self.store, Store):  # (it finishes the rest: _count_usage)
            self.store.first_screen_first()
        await self.store.open()
        await self.push_screen(TaskListScreen(sort=self.config.sort, reverse=self.config.reverse))
        self._refresher()
        if self._watch_enabled and self.store.data_dir is not None:  # (hosts only: no files here)
            self._watcher()
        if self._tick_enabled:
            self.set_interval(1.0, self._tick)
        # The notifier looks once the first screen is painted (its first
        # picture of a large store is a read and a build of its own: the
        # screen comes first), or after NOTIFIER_START_S if no read lands.
        self.set_timer(NOTIFIER_START_S, self._start_notifier)
        self.request_refresh(force=True)

    async def on_unmount(self) -> None:
        self._stop.set()
        self.workers.cancel_all()
        await self.store.close()
        if self._undo_signals is not None:
            self._undo_signals()

    # --- the two workers ------------------------------------------------------------------

    @work(group="watch", exclusive=True, exit_on_error=False)
    async def _watcher(self) -> None:
        """File events (or ``--poll`` ticks) → refresh requests."""
        if self.poll:
            source = poll_ticks(self.poll, self._stop)
        else:
            source = watch_store(self.store.data_dir, self._stop,
                                 runtime_dir=self.store.runtime_dir,
                                 force_polling=self._force_polling)
        async for batch in source:
            if "tau.sock" in batch or "tau.pid" in batch:
                self.local_store(self.store).live.poke()  # a server started or stopped: ask now
            # An empty batch is the slow tick: data_version decides if anything changed.
            self.request_refresh(force="<attached>" in batch, event=bool(batch))

    @work(group="refresh", exclusive=True, exit_on_error=False)
    async def _refresher(self) -> None:
        """One read at a time; requests that arrive meanwhile coalesce into the next."""
        tokens, stamp = float(READ_BURST), time.monotonic()
        while not self._stop.is_set():
            await self._requests.wait()
            # While changes stream in, at most one re-read per MIN_CYCLE_S: the
            # changes that arrive meanwhile coalesce into it. At 100 commits a
            # second on L the app otherwise re-read and redrew 40+ times a second
            # on a whole core, and fell behind once the terminal took its share.
            # A change that takes a few reads in a row (a run starting: its
            # commit, then tau's answer to the subscription it set off) gets
            # them at once: READ_BURST reads may follow each other after a
            # quiet spell (a token bucket), then the cap holds.
            now = time.monotonic()
            tokens, stamp = min(READ_BURST, tokens + (now - stamp) / MIN_CYCLE_S), now
            if tokens < 1:
                await asyncio.sleep((1 - tokens) * MIN_CYCLE_S)
                tokens, stamp = 1.0, time.monotonic()
            force, through = self._requests.take()
            # Paused, nothing that arrives changes the screen (a notification's
            # forced read included); a screen opened meanwhile gets its first.
            if self.paused and not through and self._data_screen() in self._fed:
                continue
            self._requests.reading = True
            try:
                event = self._requests.take_event()
                changed = await self._read_for_screen(force)
                if changed:
                    tokens -= 1
                elif event:
                    self._look_again()
            except Exception as exc:  # noqa: BLE001 - the dashboard must keep running
                self._note_error(f"unexpected error while reading: {exc!r}")
            finally:
                self._requests.reading = False
                # The notifier looks after the screen had its read: its picture of
                # a large store is main-thread work of its own (5-15 ms on L),
                # which the change on its way to the screen no longer waits for.
                self.notifier.poke()

    @property
    def refresh_idle(self) -> bool:
        """No read asked for and none under way (tests wait on it)."""
        return self._requests.idle

    @work(group="usage", exit_on_error=False)
    async def _count_usage(self) -> None:
        """Finish long sessions' token and cost sums a chunk at a time, between
        the reads of the refresher, then show them."""
        try:
            while not self._stop.is_set() and await self.store.count_usage():
                # Between chunks the screen and the refresher come first: counting
                # takes at most about half of a core while the operator works.
                await asyncio.sleep(USAGE_PAUSE)
        finally:
            self._counting = False
        if not self._stop.is_set() and not self.paused:
            self.request_refresh(force=True)

    def request_refresh(self, *, force: bool = False, event: bool = False,
                        through_pause: bool = False) -> None:
        """Ask for a re-read of what the current screen shows (``event``: a
        file event asked, so a commit is on its way; ``through_pause``: the
        operator asked, `p` does not hold it back)."""
        self._requests.ask(force=force, event=event, through_pause=through_pause)
        if self.paused:  # (else it looks once the screen has its read: below, in the refresher)
            self.notifier.poke()  # it looks too, paused or not

    def _live_changed(self) -> None:
        """tau's server said something new: re-read what the screen shows
        (the data version check lets it through: the live version moved)."""
        if not self._stop.is_set():
            self.request_refresh()

    def _look_again(self) -> None:
        """A file event came but no commit is visible yet: the writer puts its
        WAL frames down (the event) before it publishes the commit in the WAL
        index (no event). Check data_version again shortly, rather than wait
        for the next event or the slow tick."""
        for delay in RECHECK_DELAYS:
            self.set_timer(delay, self.request_refresh)

    def _data_screen(self) -> DataScreen | None:
        """The screen the data is for: the current one, or the one under a modal."""
        screen = self.screen
        if isinstance(screen, DataScreen):
            return screen
        return next((s for s in reversed(self.screen_stack) if isinstance(s, DataScreen)), None)

    async def _read_for_screen(self, force: bool) -> bool:
        """Read what the screen shows if the store changed; False if it had not."""
        screen = self._data_screen()
        return True if screen is None else await self._read_into(screen, force)

    async def _read_into(self, screen: DataScreen[S], force: bool) -> bool:
        """`_read_for_screen` for a screen showing an ``S``: its query asks for one."""
        query = screen.data_query()
        if query is None:
            return True
        # Only the open transcript's session has its stream gathered and decoded.
        self._focus(query)
        seen_key = await self._versions(self._source_of(query))
        if not force and self._seen.get(query) == seen_key and self.refresh_state.error is None:
            return False  # nothing that is data changed: cost was two PRAGMAs
        started = time.perf_counter()
        try:
            data = await self._run_query(query)
        except Left:
            return True  # the operator left the screen while a host answered: the read is let go
        except StoreError as exc:
            self._note_error(str(exc))
            return True
        # A long read of the task list filled the store's caches (a cold start,
        # a store replaced): they live as long as the store. (Not after a long
        # read of a screen that will close: its widgets must stay collectable.)
        big_read = isinstance(query, TaskListQuery) and time.perf_counter() - started > BIG_READ_S
        self._seen = {query: seen_key}
        self.refresh_state = RefreshState(
            mode=self._mode(), poll_seconds=self.poll, last_read=self.clock(),
        )
        if screen.is_mounted and screen.is_attached and not self._stop.is_set():
            screen.apply(self._marked(data, query), self.store.status(), self.refresh_state)
            self.applied += 1
            self._fed.add(screen)
        if big_read or not self._settled:
            if not self._settled:
                self.call_after_refresh(self._start_notifier)
            self._settled = True
            heap.settle()
        if self.store.usage_pending() and not self._counting:
            self._counting = True
            # After the screen has painted what it has: the first look comes first.
            self.set_timer(USAGE_START_DELAY, self._count_usage)
        return True

    def _note_error(self, message: str) -> None:
        prev = self.refresh_state
        self.refresh_state = RefreshState(
            mode=self._mode(), poll_seconds=self.poll, last_read=prev.last_read,
            stale_since=prev.stale_since or self.clock(), error=message,
        )
        screen = self.screen
        if isinstance(screen, DataScreen) and screen.is_mounted and screen.is_attached:
            screen.apply_status(self.store.status(), self.refresh_state)

    def _mode(self) -> str:
        if self.paused:
            return "paused"
        return "polling" if self.poll else "watching"

    def _tick(self) -> None:
        """Once a second: ages and spinners move; the store is not touched.
        Paused, they hold still: only the status line's "updated … ago" moves."""
        screen = self.screen
        if isinstance(screen, DataScreen) and screen.is_mounted and screen.is_attached:
            try:
                if self.paused:
                    DataScreen.tick(screen, self.clock())
                    return
                screen.tick(self.clock())
            except NoMatches:
                pass  # the screen is being composed or torn down (quitting): nothing to tick

    # --- actions -----------------------------------------------------------------------------

    def action_help(self) -> None:
        # Imported when asked for: it gathers every screen's bindings, and the
        # task and transcript screens are not needed for the first one.
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_reload(self) -> None:
        if self.hosts is not None:
            self.store.live.poke()  # a host waiting to reconnect: try it now
        self.request_refresh(force=True, through_pause=True)
        self.notify("Re-reading the store", timeout=1.5)



if TYPE_CHECKING:  # the app answers what the screens ask of it (checked by mypy)
    def _is_a_dashboard(app: SessionTopApp) -> Dashboard:
        return app
