"""`Hosts`: this machine's store and each remote host's, as one source.

The app asks it what it asks a `Store` (the task list, versions, status,
focus, usage, ``live`` listeners), and asks `source(host)` for one host's task
or transcript: ids mean something on their host only. The task list is every
host's rows one after the other, each naming its host (this machine's rows
get its name here, the remote ones get theirs from their mirror); an
unchanged row stays the same object, so the screens' identity checks hold.
A host that cannot be read keeps its last good rows, marked stale in its
`HostStatus`; no host's trouble holds up another's rows. Used only when
hosts are shown: with this machine alone the app talks to the `Store` as it
always did. This machine without tau's data directory at the start (tau has
not run here yet) is not shown but waited for, as a dashboard of this
machine alone waits for its store: the app's watcher watches for the
directory, and the first read that finds it shows this machine's rows.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..model.hosts import LOCAL_HOST, HostStatus, LinkState
from ..model.snapshots import StoreStatus, TaskListSnapshot, TaskRow
from ..model.text import one_line
from ..notify.engine import Event
from ..tau.errors import StoreError
from ..tau.store import Store

if TYPE_CHECKING:  # the link, the wire and ssh load only when hosts are shown (tui.hosts.build)
    from ..remote.source import RemoteSource

#: ``callback(host, events, lost)``: a batch of a remote host's engine's events.
HostEvents = Callable[[str, tuple[Event, ...], int], None]


class HostsLive:
    """What the app asks of ``store.live``, over every host: a listener on each,
    a version that moves when any moves, ``poke`` tries them all now."""

    def __init__(self, hosts: Hosts) -> None:
        self._hosts = hosts

    def _all(self) -> list[Any]:
        return [s.live for s in self._hosts.sources()]

    def add_listener(self, callback: Callable[[], None]) -> None:
        for live in self._all():
            live.add_listener(callback)

    @property
    def version(self) -> int:
        return sum(live.version for live in self._all())

    @property
    def up(self) -> bool:
        """This machine's tau server answers (else: any host's does)."""
        local = self._hosts.local
        if local is not None and self._hosts.local_shown:
            return bool(local.live.up)
        return any(r.live.up for r in self._hosts.remotes.values())

    def poke(self) -> None:
        """Ask this machine's server again, and try every waiting link now."""
        for live in self._all():
            live.poke()

    async def settle(self, timeout: float) -> bool:
        local = self._hosts.local
        return True if local is None else await local.live.settle(timeout)


class Hosts:
    """The local store (or none) and the remote hosts, behind the Store API."""

    def __init__(self, local: Store | None, remotes: Sequence[RemoteSource], *,
                 local_name: str = LOCAL_HOST, no_local: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``no_local``: why this machine is not shown (its status line says it);
        with ``local`` too: its data directory is missing, and it is shown once
        it is there."""
        self.local = local
        self.local_name = local_name
        self.remotes: dict[str, RemoteSource] = {r.host: r for r in remotes}
        self.no_local = no_local
        self.clock = clock
        self.live = HostsLive(self)
        #: The local store's directories (the app's file watcher), None without it.
        self.data_dir = local.data_dir if local is not None else None
        self.runtime_dir = local.runtime_dir if local is not None else None
        self._opened = local is None  # the local store's first read is under way until then
        self._labelled: dict[int, tuple[TaskRow, TaskRow]] = {}
        self._local_in: tuple[TaskRow, ...] | None = None
        self._local_out: tuple[TaskRow, ...] = ()
        self._local_snap: TaskListSnapshot | None = None
        self._local_error: str | None = None
        self._local_stale: float | None = None
        self._parts: tuple[tuple[TaskRow, ...], ...] = ()
        self._tasks: tuple[TaskRow, ...] = ()

    # --- the hosts -------------------------------------------------------------------------

    @property
    def local_shown(self) -> bool:
        """This machine's store is shown (it has one, and it is there)."""
        return self.local is not None and self.no_local is None

    def _local_appeared(self) -> bool:
        """This machine's data directory is there now (tau made it): it joins."""
        if self.local is not None and self.no_local is not None and Path(self.local.data_dir).is_dir():
            self.no_local = None
        return self.local_shown

    def names(self) -> list[str]:
        """Every host shown, this machine first."""
        return ([self.local_name] if self.local_shown else []) + list(self.remotes)

    def sources(self) -> list[Any]:
        return ([self.local] if self.local is not None else []) + list(self.remotes.values())

    def source(self, host: str) -> Any:
        """The store or remote source of ``host``; StoreError for a host not shown."""
        if host == self.local_name and self.local is not None:
            return self.local
        remote = self.remotes.get(host)
        if remote is None:
            raise StoreError(f"no host {one_line(host, 40)!r} is shown")
        return remote

    def add_event_listener(self, callback: HostEvents) -> None:
        """Each remote host's engine's events, with its name (this machine's go
        through the app's own notifier)."""
        for name, remote in self.remotes.items():
            remote.add_event_listener(lambda events, lost, h=name: callback(h, events, lost))

    # --- the Store API -------------------------------------------------------------------

    async def open(self) -> None:
        """Start every link (they connect in the background), then open the local store."""
        for remote in self.remotes.values():
            await remote.open()
        if self.local is not None:
            await self.local.open()

    async def close(self) -> None:
        closing = [s.close() for s in self.sources()]
        for result in await asyncio.gather(*closing, return_exceptions=True):
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result

    async def read_task_list(self) -> TaskListSnapshot:
        """Every host's rows; a host that cannot be read now keeps its last ones."""
        parts: list[tuple[TaskRow, ...]] = []
        live = 0
        if self._local_appeared():
            snap = await self._read_local()
            if snap is not None:
                parts.append(self._label(snap.tasks))
                live += snap.live_sessions
        for remote in self.remotes.values():
            snap = await remote.read_task_list()
            parts.append(snap.tasks)
            live += snap.live_sessions
        key = tuple(parts)
        if len(key) != len(self._parts) or any(a is not b for a, b in zip(key, self._parts)):
            self._parts = key
            self._tasks = key[0] if len(key) == 1 else tuple(t for part in key for t in part)
        return TaskListSnapshot(tasks=self._tasks, status=self.status(), taken_at=self.clock(),
                                live_sessions=live)

    async def _read_local(self) -> TaskListSnapshot | None:
        """This machine's list; on a failure its last good one, the failure kept
        for its line of the status."""
        assert self.local is not None
        try:
            snap = await self.local.read_task_list()
        except StoreError as exc:
            self._local_error = str(exc)
            if self._local_stale is None:
                self._local_stale = self.clock()
            return self._local_snap
        self._opened = True
        self._local_snap, self._local_error, self._local_stale = snap, None, None
        return snap

    def _label(self, rows: tuple[TaskRow, ...]) -> tuple[TaskRow, ...]:
        """This machine's rows with its name; a row unchanged stays the same object."""
        if rows is self._local_in:
            return self._local_out
        cache, name, out = self._labelled, self.local_name, []
        for t in rows:
            hit = cache.get(t.id)
            if hit is None or hit[0] is not t:
                hit = (t, replace(t, host=name))
                cache[t.id] = hit
            out.append(hit[1])
        if len(cache) > 2 * len(rows) + 64:  # tasks gone: forget theirs
            keep = {t.id for t in rows}
            self._labelled = {i: v for i, v in cache.items() if i in keep}
        self._local_in, self._local_out = rows, tuple(out)
        return self._local_out

    async def data_versions(self) -> tuple[Any, Any]:
        """Moves whenever any host's data may have (the local files, each mirror)."""
        local = await self.local.data_versions() if self.local is not None else None
        return (local, tuple([await r.data_versions() for r in self.remotes.values()]))

    def status(self) -> StoreStatus:
        """This machine's status (its server, its notices), with a line per host."""
        hosts: list[HostStatus] = []
        notices: list[str] = []
        if self.local_shown:
            assert self.local is not None
            base = self.local.status()
            notices.extend(f"{self.local_name}: {n}" for n in base.notices)
            tasks = len(self._local_snap.tasks) if self._local_snap is not None else 0
            hosts.append(HostStatus(
                LinkState(self.local_name, "live" if self._opened else "connecting"),
                server_up=base.server.up, server=base.server.state, tasks=tasks,
                error=self._local_error or base.error, stale_since=self._local_stale, local=True))
        else:
            base = StoreStatus(data_dir="")
            if self.no_local:
                why = self.no_local + (": shown here once tau makes it" if self.local is not None else "")
                hosts.append(HostStatus(LinkState(self.local_name, "off"), error=why, local=True))
        for name, remote in self.remotes.items():
            st = remote.status()
            state = remote.link_state
            own = [n for n in st.notices if not n.startswith(f"{name}:")]
            notices.extend(f"{name}: {n}" for n in own if state.connected)
            hosts.append(HostStatus(state, server_up=st.server.up and state.connected,
                                    server=st.server.state if state.connected else "",
                                    tasks=len(remote.mirror.rows), stale_since=st.stale_since))
        return replace(base, notices=tuple(notices), error=None, stale_since=None, hosts=tuple(hosts))

    def focus(self, session_id: str | None, host: str | None = None) -> None:
        """The open transcript's session on ``host``: its turn is gathered
        there; every other host's focus is let go."""
        for name in self.names():
            src = self.source(name)
            src.focus(session_id if name == host else None)

    def usage_pending(self) -> bool:
        return self.local is not None and self.local.usage_pending()

    async def count_usage(self) -> bool:
        return self.local is not None and await self.local.count_usage()

    def stalled(self) -> dict[str, dict[str, Any]]:
        """Each remote host's stalled sessions now (its own engine's word)."""
        return {name: r.stalled for name, r in self.remotes.items() if r.stalled}
