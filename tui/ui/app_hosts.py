"""The app's side of remote hosts (issue 23): which source answers a query.

Mixed into `tui.ui.app.SessionTopApp`. With this machine alone the store is
a `Store` and every query goes to it as it always did (nothing here costs a
thing then). With hosts it is a `tui.hosts.Hosts`: the task list is every
host's, a task or a transcript is asked of its own host (ids are per host:
the query carries its host), each host's stalled sessions are marked on its
own rows, and each host's notifications are told with its name. The screens
see snapshots only: they cannot tell a local row from a remote one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..hosts import Hosts
from ..hosts.marks import host_attention, mark_detail, mark_rows
from ..hosts.waits import unless_left
from ..model.hosts import host_words
from ..model.queries import Asks, TranscriptQuery
from ..model.snapshots import TaskDetail, TaskListSnapshot, Transcript
from ..model.text import one_line
from ..notify.attention import attention_lines, mark
from ..notify.engine import Event
from ..notify.notifier import Notifier

#: The snapshot a query is answered with.
S = TypeVar("S")

if TYPE_CHECKING:
    from textual.app import App

    _AppBase = App[None]
else:
    _AppBase = object


class HostsMixin(_AppBase):
    """Queries routed by host; marks and notifications per host."""

    store: Any
    notifier: Notifier
    refresh_state: Any

    @property
    def hosts(self) -> Hosts | None:
        """The hosts shown, or None: this machine alone."""
        store = self.store
        return store if isinstance(store, Hosts) else None

    @staticmethod
    def local_store(store: Any) -> Any:
        """This machine's store (None when only hosts are shown)."""
        return store.local if isinstance(store, Hosts) else store

    def _attach_hosts(self) -> None:
        """Each remote host's notifications go to the notifier, with its name."""
        hosts = self.hosts
        if hosts is not None:
            self.notifier.host = hosts.local_name
            hosts.add_event_listener(self._host_events)

    def _host_events(self, host: str, events: tuple[Event, ...], lost: int) -> None:
        """A host's engine found these: told as this machine's are (the kinds the
        settings switch on), each saying its host; what a host sends is data."""
        kinds = self.notifier.settings.kinds
        name = one_line(host, 40)
        for event in events:
            if event.notify and event.notify in kinds:
                self.notifier.tell(Event(
                    event.kind, event.at, host_words(name, one_line(event.message, 300), event.task_id),
                    notify=event.notify,
                    task_id=event.task_id, session_id=event.session_id, role=event.role, old=event.old,
                    new=event.new, title=event.title, more=event.more, host=host))
        if lost:
            self.notifier.version += 1

    # --- one query, its host --------------------------------------------------------------

    def _source_of(self, query: Asks[object]) -> Any:
        """Who answers ``query``: the store, or (with hosts) the query's host."""
        return self.store.source(query.host) if query.host else self.store

    def _focus(self, query: Asks[object]) -> None:
        """Only the open transcript's session has its stream gathered (on its host)."""
        sid = query.session_id if isinstance(query, TranscriptQuery) else None
        if isinstance(query, TranscriptQuery) and query.host:
            self.store.focus(sid, query.host)
        else:
            self.store.focus(sid)

    async def _versions(self, source: Any) -> tuple[Any, Any, int]:
        """What must move for ``source``'s answer to have changed."""
        versions = await source.data_versions()
        return (versions[0], versions[1], source.live.version)

    async def _run_query(self, query: Asks[S]) -> S:
        """The query's answer, from its own source. A remote host's is let go
        the moment its screen is left (`tui.hosts.waits.Left`), and meanwhile
        the status line and the notifier go on: a stalled host holds up no
        other screen, and its own for its read's deadline at most."""
        source = self._source_of(query)
        hosts = self.hosts
        if hosts is None or not query.host or source is hosts.local:
            return await query.ask(source)
        shown = self._data_screen()
        return await unless_left(query.ask(source), lambda: self._data_screen() is shown
                                 and shown is not None and shown.data_query() == query,
                                 meanwhile=lambda: self._waiting_on_host(shown))

    def _waiting_on_host(self, screen: Any) -> None:
        """While a host's read is under way: the notifier looks as usual, and
        the screen's status line says what moved (another host's state)."""
        self.notifier.poke()
        version = self.store.live.version
        if version != getattr(self, "_status_version", None) and screen is not None:
            self._status_version = version
            screen.apply_status(self.store.status(), self.refresh_state)

    def _data_screen(self) -> Any:  # (the app's: the screen the data is for)
        raise NotImplementedError

    def _marked(self, data: S, query: Asks[S]) -> S:
        """``data`` with the stalled marks of the hosts it shows."""
        hosts, engine = self.hosts, self.notifier.engine
        if hosts is None:
            return mark(data, engine)
        if isinstance(data, TaskListSnapshot):
            return cast(S, mark_rows(data, engine, hosts.local_name, hosts.stalled()))
        return mark_detail(data, query.host, engine, hosts.local_name, hosts.stalled())

    def _attention(self) -> list[tuple[str, str, str]]:
        """The `!` screen's "needs attention": every host's."""
        hosts, engine = self.hosts, self.notifier.engine
        if hosts is None:
            return attention_lines(engine)
        titles = {name: {tid: row.title for tid, row in r.mirror.rows.items()}
                  for name, r in hosts.remotes.items() if r.stalled}
        return host_attention(engine, hosts.local_name, hosts.stalled(), titles, hosts.clock())

    # --- what the screens ask (by host) ---------------------------------------------------------

    async def read_task_detail(self, task_id: int, host: str = "") -> TaskDetail | None:
        """One task's fields and history, for the task list's detail line."""
        source = self.store.source(host) if host else self.store
        return await source.read_task(task_id, recent=0, include_archived=False, ask_waits=False)

    async def read_older(self, session_id: str, before_id: int, limit: int = 200, host: str = "") -> Transcript:
        """An older page of a transcript, for the transcript screen's scroll-back."""
        source = self.store.source(host) if host else self.store
        return await source.read_transcript(session_id, before_id=before_id, limit=limit)

    def open_task(self, task_id: int, host: str = "") -> None:
        from .screens.task import TaskScreen

        self.push_screen(TaskScreen(task_id, host=host))

    def open_session(self, session_id: str, title: str = "", host: str = "") -> None:
        from .screens.session import TranscriptScreen

        self.push_screen(TranscriptScreen(session_id, title=title, host=host))
