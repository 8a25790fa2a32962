"""Faults of the store itself: the dashboard keeps running, says what it sees,
keeps the last good data on screen, and changes nothing.

Every store here is a real SQLite file written by its own connection (the
StoreKit writer plays tau's server); changes reach the app through real
watchfiles events. Timeouts are generous: nothing here measures speed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faultkit import (
    StoreGuard,
    can_drop_dac,
    reads_change_nothing,
    render_in_subprocess,
    rollback_store,
)
from tests.harness import (
    apoll,
    flat,
    make_app,
    one_more_read,
    screen_text,
    wait_for,
    wait_until,
    watched,
)
from tests.storekit import StoreKit, fixed_fleet
from tui.ui.screens.task import TaskScreen
from tui.tau.store import Store, StoreError, describe_error
from tui.tau.ddl import connect_writer, create_store
from tui.tau.watcher import watch_store

SIZE = (150, 40)
TITLE = "Review the watcher debounce"  # a task of the fixed fleet


def remove_store_files(data_dir: Path, which: str = "", *, sidecars_only: bool = False) -> None:
    """Delete tasks.db / tau.db (``which``, else both) with their -wal and -shm."""
    for name in ([f"{which}.db"] if which else ["tasks.db", "tau.db"]):
        for suffix in (("-wal", "-shm") if sidecars_only else ("", "-wal", "-shm")):
            (data_dir / (name + suffix)).unlink(missing_ok=True)


def good_store(data_dir: Path, title: str = "Replacement task", n: int = 1) -> None:
    """A complete store, written and closed (checkpointed: no -wal left)."""
    k = StoreKit(data_dir)
    for i in range(1, n + 1):
        k.add_task(100 + i, f"{title} {i}" if n > 1 else title, "active")
    k.close()


@pytest.fixture
def idle_fleet(fleet: StoreKit) -> Iterator[StoreKit]:
    """The fixed fleet, its writer idle; the files are checked untouched at the end."""
    guard = StoreGuard(fleet.data_dir)
    yield fleet
    guard.check()


# --- the store is not there yet ------------------------------------------------------------


async def test_missing_data_dir_waits_then_becomes_the_dashboard(tmp_path: Path) -> None:
    """Two levels of the path are missing; tau creates them, then the files."""
    data_dir = tmp_path / "xdg" / "share" / "tau"
    app = make_app(data_dir, tmp_path / "run")
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, app, "no tau store yet")
        assert str(data_dir) in text and "waiting for tau to create it" in text
        assert "Waiting for it" in text
        (tmp_path / "xdg").mkdir()  # one step on the way: the watcher moves closer
        await wait_until(pilot, lambda: watched(tmp_path / "xdg"), what="the watch on the new level")
        kit = StoreKit(data_dir)
        try:
            fixed_fleet(kit)
            text = await wait_for(pilot, app, TITLE, timeout=30)
            assert "no tau store" not in text
            await reads_change_nothing(pilot, app, data_dir)
        finally:
            kit.close()


async def test_watcher_follows_the_path_down_by_events(tmp_path: Path) -> None:
    """The watch is not recursive: as each missing parent appears it must move
    down to it, or the next level would go unseen. The tick here is a minute,
    so only file events can make it attach within the test."""
    data_dir = tmp_path / "a" / "b" / "tau"
    stop = asyncio.Event()
    batches: list[set[str]] = []

    async def consume() -> None:
        async for batch in watch_store(data_dir, stop, tick_seconds=60):
            batches.append(batch)
            if "<attached>" in batch:
                return

    task = asyncio.create_task(consume())
    try:
        for level in (tmp_path / "a", tmp_path / "a" / "b", data_dir):
            # The watcher settles on the nearest parent: its watch is in place
            # before the next level is made, or that event would go unseen.
            await apoll(lambda p=level.parent: watched(p), 20, f"the watch on {level.parent}")
            level.mkdir()
        await asyncio.wait_for(task, timeout=20)
        assert batches[-1] == {"<attached>"}
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), timeout=10)


async def test_empty_data_dir_then_tau_creates_the_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "tau"
    data_dir.mkdir()
    app = make_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, app, "no tau store in")
        assert "waiting for tau to create them" in text
        kit = StoreKit(data_dir)
        try:
            kit.add_task(1, "The first task ever", "planning")
            await wait_for(pilot, app, "The first task ever", timeout=30)
            await reads_change_nothing(pilot, app, data_dir)
        finally:
            kit.close()


# --- one file of the two ------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["missing", "random bytes", "a directory"])
async def test_tau_db_unusable_tasks_and_bare_rows_shown(fleet: StoreKit, how: str) -> None:
    fleet.tau.close()
    remove_store_files(fleet.data_dir, "tau")
    if how == "random bytes":
        (fleet.data_dir / "tau.db").write_bytes(os.urandom(8192))
    elif how == "a directory":
        (fleet.data_dir / "tau.db").mkdir()
    fleet.tau = sqlite3.connect(":memory:")  # so that the fixture can close something
    guard = StoreGuard(fleet.data_dir)
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        text = await wait_for(pilot, app, "sessions shown as bare rows")
        expect = {"missing": "tau.db: not found", "random bytes": "not an SQLite database",
                  "a directory": "it is a directory"}[how]
        assert expect in text
        assert "Add retry to the dispatcher" in text
        app.open_task(1)
        await wait_for(pilot, app, "Sessions (0 + 4 gone)")  # tau.db unreadable: bare rows
        # The panes mount just after the heading: wait for all four.
        await wait_until(pilot, lambda: screen_text(app).count("session gone") == 4,
                         what="four bare panes")
        text = screen_text(app)
        assert "creator" in text and "s3" in text
    guard.check()


async def test_tasks_db_missing_tau_db_still_read(fleet: StoreKit, tmp_path: Path) -> None:
    """The reverse: no task board. The list says why; sessions stay readable."""
    fleet.tasks.close()
    remove_store_files(fleet.data_dir, "tasks")
    fleet.tasks = sqlite3.connect(":memory:")
    store = Store(fleet.data_dir, fleet.runtime_dir)
    await store.open()
    try:
        snap = await store.read_task_list()
        assert snap.tasks == () and "tasks.db: not found" in (snap.status.error or "")
        transcript = await store.read_transcript("s3")
        assert len(transcript.messages) == 5 and not transcript.header.gone
    finally:
        await store.close()
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, "tasks.db: not found")
        await wait_for(pilot, app, "cannot be read")
        await reads_change_nothing(pilot, app, fleet.data_dir)


# --- deleted, moved, replaced while running -------------------------------------------------


async def test_store_deleted_then_recreated(fleet: StoreKit) -> None:
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        fleet.close()
        remove_store_files(fleet.data_dir)
        text = await wait_for(pilot, app, "not found", timeout=30)
        assert TITLE not in text
        good_store(fleet.data_dir, "Born again")
        text = await wait_for(pilot, app, "Born again", timeout=30)
        assert "not found" not in text
        await reads_change_nothing(pilot, app, fleet.data_dir)


async def test_store_moved_away_and_back(fleet: StoreKit, tmp_path: Path) -> None:
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        fleet.close()
        aside = tmp_path / "aside"
        aside.mkdir()
        for path in fleet.data_dir.glob("*.db*"):
            path.rename(aside / path.name)
        await wait_for(pilot, app, "not found", timeout=30)
        for path in aside.iterdir():
            path.rename(fleet.data_dir / path.name)
        text = await wait_until_text_gone_and_back(pilot, app)
        assert TITLE in text
        await reads_change_nothing(pilot, app, fleet.data_dir)


async def wait_until_text_gone_and_back(pilot, app) -> str:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: "not found" not in screen_text(app) and TITLE in screen_text(app),
                     30, "the store to come back")
    return flat(screen_text(app))


async def test_store_replaced_by_a_new_file(fleet: StoreKit, tmp_path: Path) -> None:
    """A new tasks.db renamed over the old one (a restore from backup): the
    dashboard must notice the new file even though nothing was committed to
    it since, which data_version alone cannot tell."""
    other = tmp_path / "other"
    good_store(other, "Restored from backup")
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        fleet.tasks.close()  # tau stopped
        fleet.tasks = sqlite3.connect(":memory:")
        # A WAL database is its file plus its -wal: a restore replaces both (an old
        # -wal beside a new file would be replayed onto it, by tau as by anyone).
        remove_store_files(fleet.data_dir, "tasks", sidecars_only=True)
        os.replace(other / "tasks.db", fleet.data_dir / "tasks.db")
        text = await wait_for(pilot, app, "Restored from backup", timeout=30)
        assert TITLE not in text
        await reads_change_nothing(pilot, app, fleet.data_dir)


async def test_directory_deleted_and_recreated(fleet: StoreKit) -> None:
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        fleet.close()
        shutil.rmtree(fleet.data_dir)
        text = await wait_for(pilot, app, "no tau store yet", timeout=30)
        assert "waiting for tau" in text
        good_store(fleet.data_dir, "After the reinstall")
        await wait_for(pilot, app, "After the reinstall", timeout=30)
        # The watcher is attached to the new directory: a plain commit shows up.
        kit = StoreKit(fleet.data_dir)
        try:
            kit.add_task(200, "Seen through the new watch", "ready")
            await wait_for(pilot, app, "Seen through the new watch", timeout=30)
            await reads_change_nothing(pilot, app, fleet.data_dir)
        finally:
            kit.close()


# --- corrupt and foreign files ------------------------------------------------------------------


def truncated_copy(tmp_path: Path) -> bytes:
    """The first part of a database of many pages: a valid header, pages missing."""
    d = tmp_path / "big"
    k = StoreKit(d)
    with k._tx(k.tasks) as c:
        c.executemany("INSERT INTO tasks (id, project_name, title, state, created_at, updated_at)"
                      " VALUES (?,?,?,?,?,?)",
                      [(i, "p", f"task {i} " + "x" * 400, "ready", 0, 0) for i in range(1, 3000)])
    k.close()
    data = (d / "tasks.db").read_bytes()
    return data[: len(data) // 3]


CORRUPTIONS = {
    "random bytes": lambda tmp: os.urandom(64 * 1024),
    "truncated database": truncated_copy,
    "zero-length file": lambda tmp: b"",
    "a text file": lambda tmp: b"This is not a database, it is a README.\n" * 200,
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
async def test_corrupt_tasks_db_keeps_last_good_data(fleet: StoreKit, tmp_path: Path,
                                                     kind: str) -> None:
    bad = CORRUPTIONS[kind](tmp_path)
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        fleet.tasks.close()
        fleet.tasks = sqlite3.connect(":memory:")
        remove_store_files(fleet.data_dir, "tasks")
        tmp = fleet.data_dir / "tasks.db.new"
        tmp.write_bytes(bad)
        os.replace(tmp, fleet.data_dir / "tasks.db")
        expect = {"random bytes": "not an SQLite database", "a text file": "not an SQLite database",
                  "truncated database": "the database is corrupt",
                  "zero-length file": "no 'tasks' table (an empty file)"}[kind]
        text = await wait_for(pilot, app, expect, timeout=30)
        assert "stale since" in text and "last good read" in text
        assert TITLE in text, "the last good data must stay on screen"
        assert "Traceback" not in text and app.is_running
        # A good file again: the dashboard recovers by itself.
        remove_store_files(fleet.data_dir, "tasks")
        good_store(tmp_path / "good", "Fixed again")
        os.replace(tmp_path / "good" / "tasks.db", fleet.data_dir / "tasks.db")
        text = await wait_for(pilot, app, "Fixed again", timeout=30)
        assert "stale since" not in text
        await reads_change_nothing(pilot, app, fleet.data_dir)


async def test_tasks_db_written_over_in_place_is_not_shown_as_fresh(fleet: StoreKit) -> None:
    """`printf garbage > tasks.db`: the same inode, its WAL and wal-index left as
    they were, so SQLite's cache would go on answering with the old rows, shown
    as fresh. The dashboard says the file is broken and keeps the last good
    rows marked stale (before: nothing said, 'updated just now')."""
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        fleet.tasks.close()
        fleet.tasks = sqlite3.connect(":memory:")
        with open(fleet.data_dir / "tasks.db", "r+b") as fh:  # in place: truncate and write
            fh.truncate(0)
            fh.write(b"garbage\n")
        text = await wait_for(pilot, app, "not an SQLite database", timeout=30)
        assert "stale since" in text and TITLE in text and app.is_running


@pytest.mark.parametrize("kind", ["random bytes", "truncated database", "a text file"])
async def test_corrupt_store_at_start_says_so(tmp_path: Path, kind: str) -> None:
    data_dir = tmp_path / "tau"
    create_store(data_dir)
    (data_dir / "tasks.db").write_bytes(CORRUPTIONS[kind](tmp_path))
    guard = StoreGuard(data_dir)
    app = make_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, "The store cannot be read")
        # The status line's problem row shows up with, or a frame after, the message.
        text = await wait_for(pilot, app, "tasks.db: ")
        assert ("not an SQLite database" in text) or ("the database is corrupt" in text)
    guard.check()


async def test_corrupt_tau_db_while_on_the_transcript_keeps_it(fleet: StoreKit) -> None:
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        app.open_session("s3")
        await wait_for(pilot, app, "implement retry with backoff")
        fleet.tau.close()
        fleet.tau = sqlite3.connect(":memory:")
        remove_store_files(fleet.data_dir, "tau")
        tmp = fleet.data_dir / "tau.db.new"
        tmp.write_bytes(os.urandom(32768))
        os.replace(tmp, fleet.data_dir / "tau.db")
        text = await wait_for(pilot, app, "not an SQLite database", timeout=30)
        assert "implement retry with backoff" in text and "stale since" in text
        await reads_change_nothing(pilot, app, fleet.data_dir)


# --- permission denied, read-only directory ---------------------------------------------------


@pytest.mark.skipif(not can_drop_dac(), reason="needs root on Linux to drop CAP_DAC_OVERRIDE")
def test_permission_denied_file(fleet: StoreKit) -> None:
    """Root reads any file, so the dashboard runs in a child process that is
    root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH: file modes apply to it."""
    fleet.close()
    guard = StoreGuard(fleet.data_dir)
    tasks_db = fleet.data_dir / "tasks.db"
    tasks_db.chmod(0o000)
    try:
        run = render_in_subprocess(fleet.data_dir, fleet.runtime_dir, drop_dac=True,
                                   until=("The store cannot be read", "tasks.db: cannot open"))
    finally:
        tasks_db.chmod(0o644)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    text = flat(run.stdout)
    assert "tasks.db: cannot open: permission denied (run as tau's user" in text
    assert "The store cannot be read" in text
    guard.check()


@pytest.mark.skipif(not can_drop_dac(), reason="needs root on Linux to drop CAP_DAC_OVERRIDE")
def test_unreadable_tau_db_shows_tasks_with_a_notice(fleet: StoreKit) -> None:
    fleet.close()
    tau_db = fleet.data_dir / "tau.db"
    tau_db.chmod(0o000)
    try:
        run = render_in_subprocess(fleet.data_dir, fleet.runtime_dir, drop_dac=True,
                                   until=(TITLE, "sessions shown as bare rows"))
    finally:
        tau_db.chmod(0o644)
    assert run.returncode == 0, run.stderr
    text = flat(run.stdout)
    assert TITLE in text and "permission denied" in text
    assert "sessions shown as bare rows" in text


def test_another_users_server_is_said_and_phases_are_the_persisted_ones(fleet: StoreKit) -> None:
    """connect() needs write permission on the socket file: another user's
    (tau binds it 0755) refuses this one (EACCES). The dashboard says so and
    shows the persisted phases."""
    sock = fleet.socket_path
    owner = sock.stat()
    os.chown(sock, 65534, 65534)  # nobody's
    sock.chmod(0o755)
    try:
        run = render_in_subprocess(fleet.data_dir, fleet.runtime_dir, drop_dac=True,
                                   until=(TITLE, "phases shown are the persisted ones"))
    finally:
        os.chown(sock, owner.st_uid, owner.st_gid)
    assert run.returncode == 0, run.stderr
    text = flat(run.stdout)
    assert "tau.sock belongs to another user (permission denied)" in text
    assert "phases shown are the persisted ones" in text
    assert TITLE in text and "live)" not in text


def _chattr(path: Path, flag: str) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


def _read_only(data_dir: Path, how: str) -> bool:
    """Make ``data_dir`` read-only for root too; False if this system cannot."""
    if how == "chattr +i":
        return _chattr(data_dir, "+i")
    run = lambda *a: subprocess.run(a, capture_output=True).returncode == 0  # noqa: E731
    if shutil.which("mount") is None or not run("mount", "--bind", str(data_dir), str(data_dir)):
        return False
    if not run("mount", "-o", "remount,ro,bind", str(data_dir)):
        run("umount", str(data_dir))
        return False
    return True


def _writable_again(data_dir: Path, how: str) -> None:
    if how == "chattr +i":
        _chattr(data_dir, "-i")
    else:
        # Lazy: a file the dashboard holds open this instant would make a plain
        # umount fail (busy) and leave the directory read-only.
        subprocess.run(["umount", "-l", str(data_dir)], capture_output=True)


@pytest.mark.parametrize("how", ["chattr +i", "read-only bind mount"])
async def test_read_only_directory_without_shm(tmp_path: Path, how: str) -> None:
    """A WAL database is read through its -shm index, which SQLite must create
    beside it when it is absent. An immutable directory (chattr +i) or a
    read-only mount stops even root: the dashboard says why and how to fix it,
    and attaches once the directory is writable."""
    data_dir = tmp_path / "tau"
    good_store(data_dir, "Behind a read-only directory")
    assert not (data_dir / "tasks.db-shm").exists()
    if not _read_only(data_dir, how):
        pytest.skip(f"{how} is not possible here (needs root, CAP_SYS_ADMIN or ext4)")
    guard = StoreGuard(data_dir)
    try:
        app = make_app(data_dir)
        async with app.run_test(size=(200, 40)) as pilot:
            text = await wait_for(pilot, app, "the directory is read-only")
            assert "tasks.db-shm" in text and "make the directory writable" in text
            _writable_again(data_dir, how)
            await wait_for(pilot, app, "Behind a read-only directory", timeout=30)
            await reads_change_nothing(pilot, app, data_dir)
    finally:
        _writable_again(data_dir, how)
    guard.check()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands files to another owner")
async def test_sidecars_created_as_root_belong_to_the_store_owner(tmp_path: Path) -> None:
    """Run as root on a store of another user, the -wal and -shm SQLite must
    create to read it belong to that user, so tau can still open them."""
    data_dir = tmp_path / "tau"
    good_store(data_dir, "Owned by nobody")
    for name in ("tasks.db", "tau.db"):
        os.chown(data_dir / name, 65534, 65534)
    store = Store(data_dir)
    await store.open()
    try:
        assert [t.title for t in (await store.read_task_list()).tasks] == ["Owned by nobody"]
    finally:
        await store.close()
    for name in ("tasks.db-wal", "tasks.db-shm", "tau.db-wal", "tau.db-shm"):
        st = (data_dir / name).stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534), name


def test_describe_error_words() -> None:
    """The messages for conditions no test here can produce on demand."""
    p = Path("/nowhere/tau/tasks.db")
    assert "cannot open (missing" in describe_error(sqlite3.OperationalError(
        "unable to open database file"), p)
    assert "busy" in describe_error(sqlite3.OperationalError("database is locked"), p)
    assert "permission denied" in describe_error(PermissionError(13, "Permission denied"), p)
    assert "corrupt" in describe_error(sqlite3.DatabaseError("database disk image is malformed"), p)


# --- locks, long transactions, a large WAL ----------------------------------------------------


async def test_long_write_transaction_in_wal_mode_does_not_stall(fleet: StoreKit) -> None:
    """tau's store is WAL: a writer inside a long transaction never blocks a
    reader. The screen keeps updating from other commits and shows no error."""
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        app.open_task(1)
        await wait_for(pilot, app, "Sessions (4, 2 live)")
        long_tx = connect_writer(fleet.data_dir / "tasks.db")
        long_tx.execute("BEGIN IMMEDIATE")
        long_tx.execute("UPDATE tasks SET title='uncommitted' WHERE id=1")
        fleet.run("s3", "compacting")  # tau.db commits go on meanwhile
        await wait_for(pilot, app, "compacting", timeout=30)
        await one_more_read(pilot, app)  # reads tasks.db during the transaction
        text = flat(screen_text(app))
        assert "uncommitted" not in text and "stale" not in text
        long_tx.execute("COMMIT")
        long_tx.close()
        text = await wait_for(pilot, app, "uncommitted", timeout=30)
        assert "stale" not in text and "busy" not in text
        await reads_change_nothing(pilot, app, fleet.data_dir)


async def test_writer_holding_an_exclusive_lock_marks_stale_then_recovers(tmp_path: Path) -> None:
    data_dir = tmp_path / "tau"
    writer = rollback_store(data_dir)
    app = make_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        # Waits for the reader's brief lock, if any. From a thread: a blocking wait on
        # the event loop would stop the dashboard's read from ever finishing, a
        # deadlock that ends in "database is locked" after 30 s.
        await asyncio.to_thread(writer.execute, "BEGIN EXCLUSIVE")
        writer.execute("UPDATE tasks SET title='Written under the lock' WHERE id=2")
        app.request_refresh(force=True)  # as a change event would
        text = await wait_for(pilot, app, "stale since", timeout=30)
        assert "busy: a writer holds a lock" in text
        assert TITLE in text, "the last good data stays while the lock is held"
        writer.execute("COMMIT")  # the writer's commit succeeds
        text = await wait_for(pilot, app, "Written under the lock", timeout=30)
        assert "stale since" not in text
        await reads_change_nothing(pilot, app, data_dir)
    writer.close()


async def test_exclusive_locking_mode_writer_at_start(tmp_path: Path) -> None:
    """A WAL store whose writer took locking_mode=EXCLUSIVE before the dashboard
    started: nothing can be read until it lets go. (While the dashboard is
    attached no writer can take that lock: tau does not use it.)"""
    data_dir = tmp_path / "tau"
    good_store(data_dir, "Locked away")
    writer = connect_writer(data_dir / "tasks.db")
    writer.execute("PRAGMA locking_mode=EXCLUSIVE")
    writer.execute("UPDATE tasks SET state='review'")  # takes and keeps the lock
    app = make_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for(pilot, app, "busy: a writer holds a lock", timeout=30)
        assert "Locked away" not in text
        writer.close()
        app.request_refresh(force=True)
        text = await wait_for(pilot, app, "Locked away", timeout=30)
        assert "review" in text
        await reads_change_nothing(pilot, app, data_dir)


async def test_large_wal_is_read_and_never_pinned(fleet: StoreKit) -> None:
    """The writer stops checkpointing: the WAL grows to tens of MB. The
    dashboard reads through it, and it never holds a read transaction open, so
    the writer's own TRUNCATE checkpoint succeeds while the dashboard runs."""
    fleet.tau.execute("PRAGMA wal_autocheckpoint=0")
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        app.open_task(1)
        await wait_for(pilot, app, "Sessions (4")
        payload = "y" * 20_000
        for i in range(40):
            with fleet._tx(fleet.tau) as c:
                c.executemany("INSERT INTO messages (session_id, message_json, created_at)"
                              " VALUES (?,?,?)",
                              [("s3", f'{{"role":"user","content":"{payload}"}}', i)] * 50)
        wal = (fleet.data_dir / "tau.db-wal").stat().st_size
        assert wal > 30_000_000, wal
        await wait_for(pilot, app, "2005 msgs", timeout=60)
        # A read in flight at that instant makes one checkpoint busy (tau's own
        # checkpoints just try again); a transaction held open makes them all.
        await wait_until(pilot, lambda: fleet.tau.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0,
                         what="a checkpoint not kept busy: the dashboard holds no read transaction open")
        assert (fleet.data_dir / "tau.db-wal").stat().st_size == 0
        fleet.add_message("s3", {"role": "info", "text": "after the checkpoint"})
        await wait_for(pilot, app, "2006 msgs", timeout=30)
        await reads_change_nothing(pilot, app, fleet.data_dir)


# --- schemas --------------------------------------------------------------------------------------


async def test_old_schema_store_on_every_screen(tmp_path: Path) -> None:
    """The first stores tau wrote (TAU.md §2.2, §4.2) on every screen: what they
    lack reads as empty, the notices say so, and nothing is written."""
    kit = StoreKit(tmp_path / "old", old=True)
    kit.add_task(1, "An old task", "active", project="/home/u/src/old")
    kit.link(1, "s1", "worker")
    kit.add_session("s1")
    kit.add_message("s1", {"role": "user", "content": [{"type": "text", "text": "hello old"}]})
    app = make_app(kit.data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, "An old task")
        await wait_for(pilot, app, "projects are paths")
        app.open_task(1)
        text = await wait_for(pilot, app, "never ran")
        assert "1 msgs" in text and "worker" in text
        app.open_session("s1")
        await wait_for(pilot, app, "hello old")
        await reads_change_nothing(pilot, app, kit.data_dir)
    kit.close()


async def test_newer_schema_extra_columns_and_tables(kit: StoreKit) -> None:
    fixed_fleet(kit)
    kit.tasks.execute("ALTER TABLE tasks ADD COLUMN future_field TEXT DEFAULT 'x'")
    kit.tasks.execute("CREATE TABLE task_futures (id INTEGER PRIMARY KEY, what TEXT)")
    kit.tasks.execute("ALTER TABLE task_sessions ADD COLUMN weight REAL")
    kit.tau.execute("ALTER TABLE sessions ADD COLUMN mood TEXT")
    kit.tau.execute("ALTER TABLE messages ADD COLUMN tokens INTEGER")
    kit.add_message("s3", {"role": "info", "text": "from a newer tau"})
    app = make_app(kit.data_dir, kit.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        app.open_task(1)
        await wait_for(pilot, app, "Sessions (4, 2 live)")
        app.open_session("s3")
        text = await wait_for(pilot, app, "from a newer tau")
        assert "stale" not in text
        await reads_change_nothing(pilot, app, kit.data_dir)


async def test_missing_columns_and_tables(tmp_path: Path) -> None:
    """A minimal tasks.db (id and title only) and a tau.db with no messages
    table: what is there is shown, the rest is empty."""
    d = tmp_path / "tau"
    d.mkdir()
    t = connect_writer(d / "tasks.db")
    t.executescript("CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT);"
                    "CREATE TABLE task_sessions (task_id, session_id);"
                    "INSERT INTO tasks VALUES (1, 'Bare minimum');"
                    "INSERT INTO task_sessions VALUES (1, 's1');")
    s = connect_writer(d / "tau.db")
    s.executescript("CREATE TABLE sessions (id TEXT PRIMARY KEY);"
                    "INSERT INTO sessions VALUES ('s1');")
    guard = StoreGuard(d)
    store = Store(d)
    await store.open()
    try:
        snap = await store.read_task_list()
        assert [x.title for x in snap.tasks] == ["Bare minimum"]
        detail = await store.read_task(1)
        assert detail is not None and detail.sessions[0].info.message_count == 0
        transcript = await store.read_transcript("s1")
        assert transcript.messages == ()
    except StoreError as exc:  # pragma: no cover - the point of the test
        pytest.fail(f"read failed: {exc}")
    finally:
        await store.close()
    app = make_app(d)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, "Bare minimum")
        app.open_task(1)
        text = await wait_for(pilot, app, "Sessions (1)")
        assert "worker" in text  # the role column is missing: tau's default
    guard.check()  # before the writers close: their close checkpoints
    t.close()
    s.close()


async def test_schema_migrated_while_running(fleet: StoreKit) -> None:
    """tau upgrades and migrates while the dashboard reads: a column renamed,
    one dropped, one added. The next read learns the schema again at once."""
    app = make_app(fleet.data_dir, fleet.runtime_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        app.open_task(1)
        await wait_for(pilot, app, "writing the retry loop")
        fleet.tau.execute("ALTER TABLE sessions DROP COLUMN tagline")
        fleet.tasks.execute("ALTER TABLE tasks RENAME COLUMN branch TO git_branch")
        fleet.tasks.execute("ALTER TABLE tasks ADD COLUMN newer TEXT")
        fleet.run("s3", "compacting")
        text = await wait_for(pilot, app, "compacting", timeout=30)
        assert "writing the retry loop" not in text  # the tagline column is gone
        assert "stale" not in text and app.refresh_state.error is None
        app.pop_screen()
        fleet.tasks.execute("ALTER TABLE tasks RENAME COLUMN project_name TO project")
        fleet.tasks.execute("INSERT INTO tasks (id, project, title, state, created_at, updated_at)"
                            " VALUES (9, 'tau', 'After the migration', 'ready', 0, 0)")
        text = await wait_for(pilot, app, "After the migration", timeout=30)
        assert "stale" not in text
        await reads_change_nothing(pilot, app, fleet.data_dir)


# --- exit: everything closed, at once -----------------------------------------------------


async def test_everything_is_closed_on_exit(idle_fleet: StoreKit) -> None:
    threads_before = set(threading.enumerate())
    app = make_app(idle_fleet)
    store = app.store
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        app.open_task(1)
        await wait_for(pilot, app, "Sessions (4")
        assert isinstance(app.screen, TaskScreen)
        watchers = [w for w in app.workers if w.group == "watch"]
        assert watchers and watchers[0].is_running
        await pilot.press("q")
    assert store._tasks is None and store._tau is None
    assert all(w.is_finished for w in watchers)
    # Every aiosqlite thread has ended. asyncio keeps the thread that ran the
    # file watch for reuse until the event loop ends: it must be idle, its
    # watch returned (a thread still inside the watch would be a leak).
    await apoll(lambda: not busy_threads(threads_before), 10, "every thread idle after exit",
                details=lambda: f"threads still working: {busy_threads(threads_before)}")


async def test_clock_tick_while_a_screen_is_torn_down(idle_fleet: StoreKit) -> None:
    """On quit, Textual removes a screen's widgets while the app's 1 s timer can
    still fire: the tick found no TaskTable and the app died with a traceback
    (seen in the hypothesis test). Here the widget goes first, then the tick."""
    from tui.ui.widgets.task_table import TaskTable

    app = make_app(idle_fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, TITLE)
        await app.screen.query_one(TaskTable).remove()
        app._tick()
        assert app.is_running


def busy_threads(before: set[threading.Thread]) -> list[str]:
    frames = sys._current_frames()
    out = []
    for t in threading.enumerate():
        if t in before or not t.is_alive():
            continue
        stack = traceback.extract_stack(frames[t.ident]) if t.ident in frames else []
        idle = t.name == "AnyIO worker thread" and any(
            f.name == "get" and f.filename.endswith("queue.py") for f in stack)
        # asyncio's executor keeps its thread (the watcher's waits ran there) until
        # the loop ends: idle when it waits for work in _worker (the queue's get
        # is C, no frame of its own); inside a wait its top frame is the work item.
        idle = idle or (t.name.startswith("asyncio_") and bool(stack) and stack[-1].name == "_worker"
                        and stack[-1].filename.endswith("concurrent/futures/thread.py"))
        if not idle:
            out.append(f"{t.name}: {stack[-1] if stack else '?'}")
    return out
