"""Issue 23, the feed and a remote source, without ssh: `sessiontop feed` as a
plain subprocess behind the same link code the ssh transport uses.

Real parts: a tau-shaped store written by another connection, the stand-in
server on a real Unix socket, the real feed process on real pipes, read by
`RemoteSource`. What a remote host shows must be what the dashboard's own
store shows for the same rows and events (TAU.md §6): the phase from the
server's memory, the record from the disk.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import apoll, poll
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tests.test_streaming import Stream
from tui.notify.engine import Event
from tui.remote.source import RemoteSource
from tui.remote.ssh import LocalTransport
from tui.remote.wire import MAX_REQUEST
from tui.tau.store import Store

REPO = Path(__file__).resolve().parent.parent


def transport(kit: StoreKit, *options: str) -> LocalTransport:
    return LocalTransport("box", str(kit.data_dir), str(kit.runtime_dir), feed_options=options)


@contextlib.asynccontextmanager
async def remote(kit: StoreKit, *options: str, **kw: Any) -> AsyncIterator[RemoteSource]:
    source = RemoteSource(transport(kit, *options), **kw)
    await source.open()
    try:
        yield source
    finally:
        await source.close()


async def settled(source: RemoteSource) -> None:
    """The fixed fleet as tau shows it: s3 in ToolExec, s4 thinking (the server's memory), #5 waiting on #3."""
    def ready() -> bool:
        rows = source.mirror.rows
        return source.link_state.state == "live" and rows[1].busiest_phase == "running tools" \
            and rows[1].live_count == 2 and bool(rows[5].waits)
    await apoll(ready, what="the remote list with tau's word", details=lambda: repr(source.link_state))


async def test_a_remote_host_shows_what_the_dashboard_shows(fleet: StoreKit) -> None:
    local = Store(fleet.data_dir, fleet.runtime_dir)
    await local.open()
    try:
        async with remote(fleet) as source:
            await settled(source)

            async def same() -> bool:
                # the same rows, each naming its host here (the local store's name none)
                return (await source.read_task_list()).tasks == tuple(
                    replace(t, host="box") for t in (await local.read_task_list()).tasks)
            await apoll(same, what="the same rows as the local store")
            snap = await source.read_task_list()
            assert snap.status.data_dir == f"box:{fleet.data_dir}" and snap.status.server.state == "up"
            assert snap.live_sessions == 3  # s3, s4, s5: the server's word
            there, here = await source.read_task(1, recent=2), await local.read_task(1, recent=2)
            assert there is not None and here is not None
            assert there.task == replace(here.task, host="box") and there.history == here.history
            assert [(p.info.session_id, p.info.is_live, p.info.last_phase, p.recent) for p in there.sessions] \
                == [(p.info.session_id, p.info.is_live, p.info.last_phase, p.recent) for p in here.sessions]
            assert await source.read_task(404) is None
    finally:
        await local.close()


async def test_a_phase_change_and_a_state_change_are_pushed_with_their_events(fleet: StoreKit) -> None:
    async with remote(fleet) as source:
        told: list[Event] = []
        source.add_event_listener(lambda events, lost: told.extend(events))
        changes = []
        source.live.add_listener(lambda: changes.append(time.monotonic()))
        await settled(source)
        versions = await source.data_versions()
        kinds = source.link.bytes_by_kind
        before = kinds["delta"]
        fleet.live("s3", "Responding")  # in the server's memory only: nothing on disk moves
        await apoll(lambda: source.mirror.rows[1].busiest_phase == "working", what="s3 working")
        phase_bytes = kinds["delta"] - before
        assert await source.data_versions() != versions and changes
        fleet.set_state(2, "failed", at=BASE_MS + 1000)  # stored: tasks.db
        await apoll(lambda: source.mirror.rows[2].state == "failed", what="#2 failed")
        await apoll(lambda: any(e.kind == "task_state" and e.task_id == 2 for e in told), what="the event")
    event = next(e for e in told if e.kind == "task_state")
    assert (event.old, event.new, event.notify) == ("review", "failed", "failed")
    assert any(e.kind == "session_phase" and e.session_id == "s3" and e.new == "working" for e in told)
    assert phase_bytes < 1024, phase_bytes


async def test_a_long_list_comes_first_screen_first_then_whole(kit: StoreKit) -> None:
    """A host's first screen is on this side after a read and a line of its
    first screen's rows; the rest of its list follows by itself."""
    for i in range(1, 361):
        kit.add_task(i, f"finished {i}", "merged", updated_at=BASE_MS - 1000 * (400 - i))
    for i in range(361, 401):
        kit.add_task(i, f"open {i}", "ready")
    firsts: list[tuple[int, int]] = []
    async with remote(kit) as source:
        source.live.add_listener(lambda: source.mirror.complete and not firsts and firsts.append(
            (len(source.mirror.rows), source.mirror.left_out)))
        await apoll(lambda: source.mirror.whole, what="the whole list")
        assert len((await source.read_task_list()).tasks) == 400
    (shown, left), = firsts
    assert shown + left == 400 and 40 < shown < 100, firsts  # the 40 open ones and the newest finished


def one_session(kit: StoreKit, n: int) -> None:
    kit.add_task(1, "A busy task", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", tagline="the worker")
    kit.add_messages("s1", [user("please fix the retry loop")]
                     + [assistant(f"answer {i}", ts=BASE_MS + i) for i in range(n - 1)])


async def test_transcript_pages_and_the_streaming_turn_come_from_the_host(kit: StoreKit) -> None:
    one_session(kit, 30)
    async with remote(kit) as source:
        await apoll(lambda: source.mirror.complete, what="the snapshot")
        newest = await source.read_transcript("s1", limit=10)
        assert [m.text for m in newest.messages] == [f"answer {i}" for i in range(19, 29)] and newest.has_older
        older = await source.read_transcript("s1", limit=10, before_id=newest.messages[0].id)
        assert [m.text for m in older.messages] == [f"answer {i}" for i in range(9, 19)]
        # The open session's turn streams from the host's tau server.
        kit.run("s1", "working")
        source.focus("s1")
        await apoll(lambda: kit.server.subscriber_count("s1") == 1, what="the feed subscribed")
        s = Stream(kit, "s1", BASE_MS + 60_000)
        s.block("text", ["Looking at ", "dispatch.rs"])
        last = newest.messages[-1].id

        async def streamed() -> bool:
            page = await source.read_transcript("s1", after_id=last)
            return page.live is not None and any(getattr(p, "text", "") == "Looking at dispatch.rs"
                                                 for p in page.live.parts)
        await apoll(streamed, what="the streamed text")
        ghost = await source.read_transcript("../../../etc/passwd", limit=5)  # an id, never a path
        assert ghost.messages == () and ghost.header.gone


class Feed:
    """``sessiontop feed`` on raw pipes: what a request line gets back."""

    def __init__(self, kit: StoreKit, *options: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "feed", "--data-dir", str(kit.data_dir),
             "--runtime-dir", str(kit.runtime_dir), *options],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[dict[str, Any]] = []
        self.reading = threading.Event()
        self.reading.set()
        self.bytes = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            self.reading.wait()
            line = self.proc.stdout.readline()
            if not line:
                return
            self.bytes += len(line)
            self.lines.append(json.loads(line))

    def send(self, raw: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(raw + b"\n")
        self.proc.stdin.flush()

    def answer(self, rid: int | None, kind: str = "") -> dict[str, Any]:
        found: list[dict[str, Any]] = []
        poll(lambda: found.extend(x for x in self.lines if x.get("id", -1) == rid and x["k"] in (kind or x["k"]))
             or found, what=f"an answer to {rid}")
        return found[0]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def feed(kit: StoreKit):  # type: ignore[no-untyped-def]
    kit.add_task(1, "One task", "active")
    f = Feed(kit)
    yield f
    f.close()


def test_a_bad_request_is_an_error_line_and_the_feed_goes_on(feed: Feed) -> None:
    poll(lambda: any(x["k"] == "snapshot" for x in feed.lines), what="the snapshot")
    hello = feed.lines[0]
    assert hello["k"] == "hello" and hello["protocol"] == 1 and hello["host"]
    feed.send(b"this is not json")
    feed.send(json.dumps({"id": 2, "op": "launch", "task_id": 1}).encode())
    feed.send(json.dumps({"id": 3, "op": "task", "task_id": 1, "path": "/etc/passwd"}).encode())
    feed.send(json.dumps({"id": 4, "op": "transcript", "session_id": 7}).encode())
    feed.send(json.dumps({"id": 5, "op": "transcript", "session_id": "s", "limit": 10**9}).encode())
    feed.send(b'{"id": 6, "op": "ping", "pad": "' + b"x" * (MAX_REQUEST + 10) + b'"}')
    feed.send(json.dumps({"id": 7, "op": "ping"}).encode())
    feed.send(json.dumps({"id": 8, "op": "task", "task_id": 1}).encode())
    assert feed.answer(7)["k"] == "done"
    assert feed.answer(8)["task"]["task"]["title"] == "One task"
    errors = [x["error"] for x in feed.lines if x["k"] == "error"]
    assert [x.get("id") for x in feed.lines if x["k"] == "error"] == [None, 2, 3, 4, 5, None]
    assert "not JSON" in errors[0] and "unknown request 'launch'" in errors[1]
    assert "unknown field 'path'" in errors[2] and "transcript.session_id: expected a string" in errors[3]
    assert "limit: 1 to 1000" in errors[4] and "over 65,536 bytes" in errors[5]
    assert all("\n" not in e for e in errors) and feed.proc.poll() is None
    # A resync: the whole list again, after the answer.
    snapshots = sum(x["k"] == "snapshot" for x in feed.lines)
    feed.send(json.dumps({"id": 9, "op": "resync"}).encode())
    assert feed.answer(9)["k"] == "done"
    poll(lambda: sum(x["k"] == "snapshot" for x in feed.lines) > snapshots, what="the snapshot again")


@pytest.mark.parametrize("how", ["stdin closed", signal.SIGTERM, signal.SIGHUP])
def test_the_feed_ends_when_its_link_does(feed: Feed, how: object) -> None:
    poll(lambda: any(x["k"] == "snapshot" for x in feed.lines), what="the snapshot")
    if how == "stdin closed":
        assert feed.proc.stdin is not None
        feed.proc.stdin.close()
    else:
        feed.proc.send_signal(how)  # type: ignore[arg-type]
    assert feed.proc.wait(15) == 0


@pytest.mark.parametrize("stdin", ["/dev/null", "a file of requests"])
def test_a_feed_whose_stdin_cannot_be_polled_answers_and_ends(kit: StoreKit, tmp_path: Path, stdin: str) -> None:
    """`ssh -n` gives the feed /dev/null, a script may give it a file: neither
    can the event loop wait on (epoll refuses them). The feed says hello, reads
    what there is, answers it and ends, no traceback (it crashed before)."""
    kit.add_task(1, "One task", "active")
    source = Path("/dev/null")
    if stdin != "/dev/null":
        source = tmp_path / "requests"
        source.write_text(json.dumps({"id": 1, "op": "ping"}) + "\n")
    with source.open("rb") as given:
        done = subprocess.run(
            [sys.executable, "-m", "tui", "feed", "--data-dir", str(kit.data_dir),
             "--runtime-dir", str(kit.runtime_dir)],
            cwd=REPO, stdin=given, capture_output=True, timeout=30)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert lines[0]["k"] == "hello"
    if stdin != "/dev/null":
        assert any(x.get("id") == 1 and x["k"] == "done" for x in lines)


def test_a_slow_link_gets_each_tasks_newest_row_and_holds_a_bounded_queue(kit: StoreKit) -> None:
    """The reader stops reading while every task changes again and again: the
    feed stops too (what it holds is bounded), and once read again it sends
    each task's newest row, not every step: far fewer bytes than the steps."""
    for i in range(1, 51):
        kit.add_task(i, f"task {i} " + "x" * 2000, "active")
    f = Feed(kit, "--max-queued", "8192", "--heartbeat", "60")
    try:
        poll(lambda: any(x["k"] == "snapshot" and not x.get("more") for x in f.lines), what="the snapshot")
        f.reading.clear()  # the link stalls
        start = f.bytes
        steps = 80
        for n in range(1, steps + 1):
            kit.tasks.execute("UPDATE tasks SET priority = ?", (n,))
            time.sleep(0.01)  # pacing the writer, so the feed sees many steps (not a synchronisation)
        f.reading.set()

        def newest() -> bool:
            rows = {r["id"]: r for x in f.lines if x["k"] == "delta" for r in x.get("rows", ())}
            return len(rows) == 50 and all(r.get("priority") == steps for r in rows.values())
        poll(newest, what="every task's newest priority")
        sent = f.bytes - start
    finally:
        f.close()
    one_step = 50 * 2300  # every row once
    # The pipe (64 KiB), the queue (8 KiB), a line in hand and the last delta,
    # whatever the number of steps; every step sent would be steps × one_step.
    assert sent < 6 * one_step < steps * one_step, sent
