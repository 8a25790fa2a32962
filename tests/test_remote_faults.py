"""Issue 23, what goes wrong with a host, each said in one line, the last good data kept.

Real processes on real pipes behind the link code the ssh transport uses:
the real feed (killed mid-stream), and small feeds that misbehave as a
broken or foreign remote would (garbage, a 10 MB line, a stall, another
protocol). ssh's own failures (host down, key refused, no sessiontop there)
are in test_remote_ssh.py, through a real sshd.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.harness import apoll
from tests.storekit import StoreKit
from tui.remote.link import LinkState
from tui.remote.source import RemoteSource
from tui.remote.ssh import LocalTransport
from tui.remote.wire import MAX_LINE

#: Quick retries, so a test sees the second attempt (the real ones are 1, 2, 5, 10, 30 s).
QUICK = (0.2, 0.4)

FAKE = textwrap.dedent('''
    import sys, time
    from tui.model.snapshots import NO_SERVER, StoreStatus, TaskRow
    from tui.remote import wire

    mode = sys.argv[1]
    out = sys.stdout.buffer

    def hello(**kw):
        fields = dict(protocol=wire.PROTOCOL, version=wire.VERSION, schema=wire.SCHEMA, host="fake",
                      data_dir="/srv/tau", runtime_dir=None, server=NO_SERVER, heartbeat_s=0.2,
                      max_line=wire.MAX_LINE)
        fields.update(kw)
        out.write(wire.dumps(wire.Hello(**fields)))
        out.write(wire.dumps(wire.Snapshot(v=(1, 1, 1), at=time.time(), status=StoreStatus("/srv/tau"))))
        out.flush()

    def beats(n):
        for _ in range(n):
            out.write(wire.dumps(wire.Beat(time.time())))
            out.flush()
            time.sleep(0.05)

    if mode == "banner":  # a login banner, a noisy shell rc file: never the wire
        print("Welcome to gpu1!")
        print("Last login: yesterday")
    elif mode == "garbage-after-hello":
        hello(); out.write(b"oops, not json\\n"); out.flush(); beats(1000)
    elif mode == "long-line":
        hello(); beats(2); out.write(b"x" * (10 * 1024 * 1024) + b"\\n"); out.flush(); beats(1000)
    elif mode == "stall":
        hello(); time.sleep(600)
    elif mode == "bad-delta":  # an order naming a task it never sent, then the whole list when asked
        hello()
        out.write(wire.dumps(wire.Delta(v=(2, 1, 1), at=time.time(), order=(99,)))); out.flush()
        for line in sys.stdin.buffer:
            if b'"resync"' in line:
                row = TaskRow(id=99, title="after the resync", state="active", priority=0, project="p",
                              parent_id=None, held=False, created_at=1, updated_at=1, session_count=0,
                              live_count=0, busiest_phase=None, last_activity=None)
                out.write(wire.dumps(wire.Snapshot(v=(3, 1, 1), at=time.time(), rows=(row,),
                                                   status=StoreStatus("/srv/tau"))))
                out.flush()
    elif mode == "other-version":
        hello(protocol=99, version="9.9.9")
        time.sleep(600)
''')


@contextlib.asynccontextmanager
async def faulty(tmp_path: Path, mode: str, **kw: Any) -> AsyncIterator[RemoteSource]:
    script = tmp_path / "fake_feed.py"
    script.write_text(FAKE)
    source = RemoteSource(LocalTransport("gpu1", command=(sys.executable, str(script), mode)),
                          backoff=QUICK, **kw)
    await source.open()
    try:
        yield source
    finally:
        await source.close()


async def state_is(source: RemoteSource, state: str, timeout: float = 20.0) -> LinkState:
    await apoll(lambda: source.link_state.state == state, timeout, what=f"the link {state}",
                details=lambda: repr(source.link_state))
    return source.link_state


async def test_a_login_banner_instead_of_the_wire_is_unreachable_with_what_it_said(tmp_path: Path) -> None:
    async with faulty(tmp_path, "banner") as source:
        st = await state_is(source, "unreachable")
        assert st.reason == "gpu1 did not speak sessiontop's wire: it printed 'Welcome to gpu1!'"
        line = source.status().error or ""
        assert line.startswith("gpu1: unreachable: gpu1 did not speak") and "next try in" in line


async def test_a_garbage_line_after_the_hello_is_noted_and_the_link_stays(tmp_path: Path) -> None:
    async with faulty(tmp_path, "garbage-after-hello") as source:
        await apoll(lambda: source.problem is not None, what="the problem noted")
        assert source.link_state.state == "live"
        assert "gpu1 sent a line that is not the wire: not JSON" in (source.problem or "")
        assert source.problem in (await source.read_task_list()).status.notices


async def test_a_10_mb_line_is_refused_not_buffered_and_the_link_starts_again(tmp_path: Path) -> None:
    async with faulty(tmp_path, "long-line") as source:
        await state_is(source, "live")
        st = await state_is(source, "reconnecting")
        assert st.reason == f"gpu1 sent a line of over {MAX_LINE:,} bytes (the wire's limit)"
        await state_is(source, "live")  # the next attempt


async def test_a_feed_that_stalls_is_lagging_then_given_up(tmp_path: Path) -> None:
    async with faulty(tmp_path, "stall") as source:
        await state_is(source, "live")
        st = await state_is(source, "lagging")
        assert st.describe(st.since).startswith("gpu1: lagging (no word for")
        assert any("lagging" in n for n in source.status().notices) and source.status().error is None
        st = await state_is(source, "reconnecting")  # 12 heartbeats of 0.2 s without a word
        assert st.reason.startswith("no word from gpu1 for ") and st.reason.endswith(" s: starting again")


async def test_a_delta_that_does_not_fit_asks_for_the_whole_list_once(tmp_path: Path) -> None:
    async with faulty(tmp_path, "bad-delta") as source:
        await apoll(lambda: [t.title for t in source.mirror.tasks()] == ["after the resync"],
                    what="the list after the resync")
        assert "an order that names other tasks than the ones held: asking for the whole list again" \
            in (source.problem or "")


async def test_another_protocol_is_unreachable_naming_both_versions(tmp_path: Path) -> None:
    async with faulty(tmp_path, "other-version") as source:
        st = await state_is(source, "unreachable")
        assert st.reason == "gpu1 runs sessiontop 9.9.9, this is 0.1.0"


async def test_a_link_cut_mid_stream_keeps_the_last_data_marked_stale_then_comes_back(kit: StoreKit) -> None:
    kit.add_task(1, "Still here", "active")
    source = RemoteSource(LocalTransport("box", str(kit.data_dir), str(kit.runtime_dir)), backoff=(1.0,))
    await source.open()
    try:
        await apoll(lambda: source.link_state.state == "live" and source.mirror.complete, what="live")
        first = source.link.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)  # the feed dies (a link cut, as for ssh killed)
        await state_is(source, "reconnecting")
        snap = await source.read_task_list()
        assert [t.title for t in snap.tasks] == ["Still here"]  # the last good data…
        assert snap.status.stale_since is not None  # …marked stale, with its age
        assert (snap.status.error or "").startswith(
            "box: reconnecting: link lost: the feed ended (status -9) (next try in ")
        await state_is(source, "live")
        assert source.link.pid != first
        assert (await source.read_task_list()).status.error is None
    finally:
        await source.close()
