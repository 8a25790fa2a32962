"""``list`` and ``watch`` with hosts (issue 23): every host's, each saying its host.

``list``: this machine's document as ``list --json`` makes it, and each
host's own (its sessiontop runs ``list --json`` there, over the operator's
ssh with BatchMode and host keys checked, as the feed does): one document
whose ``hosts`` says each host's server (or why it could not be read) and
whose every task carries ``host``. ``watch``: this machine's transitions as
``watch`` prints them, and each host's as its feed's engine finds them (the
same engine: `tui.remote.alerts`), every line with ``host``; a host's link
going down or coming back is said on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import Any

from ..command.hosts_config import HostEntry
from ..hosts.build import transport_for
from ..model.hosts import LOCAL_HOST, LinkState
from ..model.text import one_line
from ..notify.engine import Event
from ..remote.source import RemoteSource
from ..remote.ssh import explain
from .common import FAILED, OK, Unreadable

#: A host's ``list`` must answer within this (s): ssh's ConnectTimeout is 10.
LIST_TIMEOUT_S = 120.0


async def host_document(entry: HostEntry, task_ids: list[int]) -> dict[str, Any]:
    """The host's own ``list --json``; Unreadable (one line) if it cannot be had."""
    transport = transport_for(entry)
    argv = transport.argv(("list", "--json", *map(str, task_ids)))
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise Unreadable(f"{entry.name}: cannot start ssh: {one_line(exc, 200)}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), LIST_TIMEOUT_S)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise Unreadable(f"{entry.name} did not answer in {LIST_TIMEOUT_S:g} s") from None
    lines = err.decode("utf-8", "replace").splitlines()
    last = next((ln for ln in reversed(lines) if ln.strip()), "")
    if proc.returncode == 1 and "no task" in last and task_ids:
        return {"tasks": []}  # none of them there: another host may have them
    if proc.returncode != 0:
        if proc.returncode in (126, 127, 255):
            raise Unreadable(one_line(explain(transport, proc.returncode, lines), 300))
        raise Unreadable(f"{entry.name}: {one_line(last.removeprefix('sessiontop: '), 300) or proc.returncode}")
    try:
        doc = json.loads(out)
        if not isinstance(doc, dict) or not isinstance(doc.get("tasks"), list):
            raise ValueError("not a list document")
    except ValueError as exc:
        raise Unreadable(f"{entry.name} did not answer with a list: {one_line(exc, 120)}") from None
    return doc


async def run_list_hosts(args: argparse.Namespace) -> int:
    """Every host's document in one; 1 (after printing what could be read) if a
    host could not be read, each such host said on stderr."""
    from .listing import local_document, text_lines

    names: list[str] = []
    jobs: list[Any] = []
    if not args.no_local:
        names.append(LOCAL_HOST)
        jobs.append(local_document(args))
    for entry in args.hosts:
        names.append(entry.name)
        jobs.append(host_document(entry, args.task_ids))
    results = await asyncio.gather(*jobs, return_exceptions=True)
    hosts: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    failed = False
    for name, result in zip(names, results):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            failed = True
            why = str(result) if isinstance(result, Unreadable) else f"{type(result).__name__}: {result}"
            hosts.append({"host": name, "error": why})
            print(f"sessiontop: {name}: {why.removeprefix(name + ': ')}", file=sys.stderr)
            continue
        doc = result[0] if isinstance(result, tuple) else result
        hosts.append({"host": name, "taken_at": doc.get("taken_at"), "server": doc.get("server")})
        tasks.extend({**t, "host": name} for t in doc["tasks"])
    if args.task_ids and not tasks and not failed:
        print(f"sessiontop: no task {', '.join(f'#{t}' for t in args.task_ids)} on any host", file=sys.stderr)
        return FAILED
    doc = {"taken_at": time.time(), "hosts": hosts, "tasks": tasks}
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    else:
        out: list[str] = []
        for h in hosts:
            mine = {"server": h.get("server") or {"detail": h.get("error", "")},
                    "tasks": [t for t in tasks if t["host"] == h["host"]]}
            out.append(f"== {h['host']}")
            out.extend(text_lines(mine) if "server" in h and h["server"] else [f"cannot be read: {h['error']}"])
        sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()
    return FAILED if failed else OK


class HostWatch:
    """Each host's transitions, as its feed's engine finds them, printed with its name."""

    def __init__(self, entries: tuple[HostEntry, ...], emit: Any) -> None:
        self.emit = emit
        self.sources = [RemoteSource(transport_for(e)) for e in entries]
        self._said: dict[str, str] = {}
        for source in self.sources:
            source.add_event_listener(lambda events, lost, s=source: self._events(s, events, lost))
            source.live.add_listener(lambda s=source: self._state(s))

    async def open(self) -> None:
        for source in self.sources:
            await source.open()

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.sources), return_exceptions=True)

    def _events(self, source: RemoteSource, events: tuple[Event, ...], lost: int) -> None:
        for event in events:
            data = event.to_json()
            data["host"] = source.host
            self.emit(data)
        if lost:
            print(f"sessiontop: {source.host}: {lost} transitions lost while the link was slow",
                  file=sys.stderr, flush=True)

    def _state(self, source: RemoteSource) -> None:
        """Said on stderr when it changes: watching (once its list is in), or why not."""
        state: LinkState = source.link_state
        if state.connected and source.mirror.complete:
            words = (f"watching {source.host} ({len(source.mirror.rows)} tasks; tau server "
                     f"{'up' if source.live.up else 'down'})")
        elif state.connected:
            return
        else:
            words = one_line(state.describe(time.time()), 300)
        key = words.split(" (next try")[0]
        if self._said.get(source.host) != key:
            self._said[source.host] = key
            print(f"sessiontop: {words}", file=sys.stderr, flush=True)


async def watch_hosts_only(args: argparse.Namespace, emit: Any) -> int:
    """``watch --no-local``: the hosts' lines until SIGINT / SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    watch = HostWatch(args.hosts, emit)
    try:
        await watch.open()
        await stop.wait()
    finally:
        await watch.close()
    return OK
