"""``sessiontop watch [--json] [--since WHEN]``: one line per transition.

The same engine as the app's notifications (`tui.notify.engine`), fed the same
pictures, taken on the same signals: a file event in the data directory (and
a few looks again shortly after it, as the app does: tau's WAL frames land
before their commit is visible), a word from tau's server, and when a live
session's stall threshold passes (a stall is the absence of change). The
first picture is the baseline; once it is taken, one line ``sessiontop:
watching …`` goes to stderr (a script may wait for it). ``--since`` first
replays what the store can tell of the time before: the task state changes of
``task_history`` and the sessions' newest messages, marked ``replayed``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..model.hosts import LOCAL_HOST
from ..notify.engine import TOLD_STATES, Engine, Event
from ..notify.observe import Observer
from ..notify.settings import load
from ..notify.stall import StallRule, median_gaps
from ..tau.store import Store
from ..tau.watcher import watch_store
from .common import FAILED, OK, USAGE, check_readable, one_line, open_store

#: A look this often with nothing changing (s) at most.
IDLE_LOOK_S = 5.0
#: After a file event, look again this much later (s) if nothing had changed.
RECHECK_DELAYS = (0.01, 0.04, 0.12, 0.3, 0.6, 1.0)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """``10m``, ``2h``, ``1d`` ago; unix seconds; or an ISO date → unix s."""
    now = time.time() if now is None else now
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if m:
        return now - float(m.group(1)) * UNITS[m.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(f"--since {text!r}: expected 10m, 2h, 1d, unix seconds or an ISO date") from None


def emit(event: Event | dict[str, Any], as_json: bool) -> None:
    data = event.to_json() if isinstance(event, Event) else event
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        when = time.strftime("%H:%M:%S", time.localtime(data["at"]))
        mark = f" [{data['notify']}]" if data.get("notify") else ""
        host = f"{data['host']} " if data.get("host") else ""
        sys.stdout.write(f"{when} {host}{data['kind']}{mark}: {data['message']}\n")
    sys.stdout.flush()


async def replay(store: Store, since: float) -> list[dict[str, Any]]:
    """What the store can tell of the time since ``since``, oldest first."""
    out: list[dict[str, Any]] = []
    since_ms = int(since * 1000)
    async with store._lock:  # noqa: SLF001 - the facade's own connections
        db = store._db  # noqa: SLF001
        conn, schema = db.tasks.conn, db.tasks.schema
        if conn is not None and schema.has("task_history", "task_id", "field", "created_at"):
            async with conn.execute(
                "SELECT h.task_id, h.old_value, h.new_value, h.created_at, t.title FROM task_history h "
                "LEFT JOIN tasks t ON t.id = h.task_id WHERE h.field = 'state' AND h.created_at >= ? "
                "ORDER BY h.created_at, h.id", (since_ms,)) as cur:
                for tid, old, new, at, title in await cur.fetchall():
                    ev = Event("task_state", at / 1000, f"task #{tid} {title!r}: {old} → {new}",
                               notify=TOLD_STATES.get(str(new)), task_id=tid,
                               old=None if old is None else str(old), new=str(new),
                               title=None if title is None else str(title)).to_json()
                    ev["replayed"] = True
                    out.append(ev)
        tau = db.tau.conn
        if tau is not None and db.tau.schema.messages_ok():
            created = db.tau.schema.msg_created()
            if created != "NULL":
                # Each session active since then: how many messages, the newest
                # when (a scan of the messages: only with --since).
                async with tau.execute(
                    f"SELECT session_id, COUNT(*), MAX({created}) FROM messages WHERE {created} >= ? "
                    "GROUP BY session_id", (since_ms,)) as cur:
                    for sid, count, last in await cur.fetchall():
                        out.append({"kind": "session_messages", "at": last / 1000, "session_id": str(sid),
                                    "new": str(count), "replayed": True,
                                    "message": f"session {sid}: {count} messages, the newest at "
                                               f"{time.strftime('%H:%M:%S', time.localtime(last / 1000))}"})
    out.sort(key=lambda e: e["at"])
    return out


async def run_watch(args: argparse.Namespace) -> int:
    """Print transitions until SIGINT / SIGTERM; 0, 1 if the store cannot be
    read, 2 for a ``--since`` that means no time."""
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as exc:
        print(f"sessiontop: {exc}", file=sys.stderr)
        return USAGE
    if args.hosts and args.no_local:  # issue 23: the hosts' lines only
        from .hosts import watch_hosts_only

        return await watch_hosts_only(args, lambda data: emit(data, args.json))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    store: Store | None = None
    follower: Follower | None = None
    hosts = None
    try:
        store = await open_store(args)
        follower = Follower(store, stop, args.json)
        # File events are watched before the baseline: whatever commits after
        # it is seen.
        await follower.attach()
        follower.engine.step(await follower.observer.take())  # the baseline
        check_readable(store)
        if since is not None:
            for ev in await replay(store, since):  # (this machine's; a host replays nothing)
                emit({**ev, "host": LOCAL_HOST} if args.hosts else ev, args.json)
        last = follower.engine.last
        print(f"sessiontop: watching {store.data_dir} ({len(last.tasks) if last else 0} tasks; "
              f"tau server {'up' if store.live.up else 'down'})", file=sys.stderr, flush=True)
        if args.hosts:  # issue 23: each host's lines too, every line saying its host
            from .hosts import HostWatch

            follower.host = LOCAL_HOST
            hosts = HostWatch(args.hosts, lambda data: emit(data, args.json))
            await hosts.open()
        # The stall thresholds' medians: read beside the watch, not before it
        # (a stall is minutes away; the floor holds until then).
        medians = asyncio.create_task(median_gaps(store))
        medians.add_done_callback(lambda t: t.cancelled() or t.exception() is not None
                                  or follower.engine.rule.medians.update(t.result()))
        try:
            await follower.run()
        finally:
            medians.cancel()
    except BrokenPipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, exit 1
        print(f"sessiontop: {one_line(exc, store)}", file=sys.stderr)
        return FAILED
    finally:
        if hosts is not None:
            await hosts.close()
        if follower is not None:
            await follower.close()
        if store is not None:
            await store.close()
    return OK


class Follower:
    """Takes a picture on each signal and prints what changed, until ``stop``."""

    def __init__(self, store: Store, stop: asyncio.Event, as_json: bool) -> None:
        self.store, self.stop, self.as_json = store, stop, as_json
        #: With hosts, this machine's name on each of its lines.
        self.host: str | None = None
        self.observer = Observer(store)
        self.engine = Engine(StallRule(load()))
        self.wake = asyncio.Event()
        self._attached = asyncio.Event()
        self._rechecks: list[asyncio.TimerHandle] = []
        self._watcher: asyncio.Task[None] | None = None
        store.live.add_listener(self.wake.set)

    async def attach(self) -> None:
        """Start watching the data directory; return once the watch is in place."""
        self._watcher = asyncio.create_task(self._files())
        if self.store.data_dir.is_dir():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._attached.wait(), 5.0)

    async def _files(self) -> None:
        loop = asyncio.get_running_loop()
        async for batch in watch_store(self.store.data_dir, self.stop, runtime_dir=self.store.runtime_dir):
            if "<attached>" in batch:
                self._attached.set()  # the watch itself is set up as this task goes on
            if "tau.sock" in batch or "tau.pid" in batch:
                self.store.live.poke()
            if batch:
                for handle in self._rechecks:
                    handle.cancel()
                self._rechecks = [loop.call_later(d, self.wake.set) for d in RECHECK_DELAYS]
            self.wake.set()

    async def run(self) -> None:
        engine, stop = self.engine, self.stop
        while not stop.is_set():
            due = engine.next_stall_at
            wait = IDLE_LOOK_S if due is None else min(IDLE_LOOK_S, max(0.0, due - time.time()) + 0.05)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), wait)
            self.wake.clear()
            if stop.is_set():
                break
            try:
                for ev in engine.step(await self.observer.take()):
                    emit(ev if self.host is None else replace(ev, host=self.host), self.as_json)
            except BrokenPipeError:
                raise
            except Exception as exc:  # noqa: BLE001 - a bad read is said, the watch goes on
                print(f"sessiontop: {one_line(exc, self.store)}", file=sys.stderr, flush=True)

    async def close(self) -> None:
        self.stop.set()
        for handle in self._rechecks:
            handle.cancel()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(BaseException):
                await self._watcher
