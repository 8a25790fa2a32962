"""Without XDG_RUNTIME_DIR and HOME, tau's socket is looked for in ``/tmp/tau-*/``:
only this user's is taken; another user's is named and never connected to.

The tests run as root, who could connect to anyone's socket: the other user's
socket is a real listening socket given to another uid with ``os.chown``, and
the test checks that nothing ever connected to it.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_for_text
from tests.harness import make_app
from tests.storekit import StoreKit
from tui.tau.paths import ForeignSocket, find_socket
from tui.tau.store import Store

OTHER_UID = 54_321


def listener(path: Path) -> socket.socket:
    path.parent.mkdir(mode=0o700)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(8)
    s.setblocking(False)
    return s


def nobody_connected(s: socket.socket) -> bool:
    try:
        conn, _ = s.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


@pytest.fixture
def root() -> Iterator[Path]:
    """A /tmp of this test's own (short: the status line names the path whole)."""
    d = Path(tempfile.mkdtemp(prefix="st-", dir="/tmp"))
    yield d
    shutil.rmtree(d)


@pytest.fixture
def theirs(root: Path) -> Iterator[tuple[Path, socket.socket]]:
    path = root / "tau-4242" / "tau.sock"
    s = listener(path)
    os.chown(path.parent, OTHER_UID, OTHER_UID)
    os.chown(path, OTHER_UID, OTHER_UID)
    yield path, s
    s.close()


def test_only_this_users_socket_is_taken(theirs: tuple[Path, socket.socket], root: Path) -> None:
    with pytest.raises(ForeignSocket) as caught:
        find_socket(None, tmp=root)
    assert str(theirs[0]) in str(caught.value) and f"uid {OTHER_UID}" in str(caught.value)
    # A socket of ours, older than theirs: ours is the one.
    mine = listener(root / "tau-77" / "tau.sock")
    try:
        future = os.stat(theirs[0]).st_mtime + 3600
        os.utime(theirs[0], (future, future))
        assert find_socket(None, tmp=root) == root / "tau-77" / "tau.sock"
        # Not a socket, or a link to one, is not a server.
        (root / "tau-99").mkdir()
        (root / "tau-99" / "tau.sock").symlink_to(root / "tau-77" / "tau.sock")
        os.utime(root / "tau-99" / "tau.sock", (future + 1, future + 1), follow_symlinks=False)
        assert find_socket(None, tmp=root) == root / "tau-77" / "tau.sock"
    finally:
        mine.close()
    assert nobody_connected(theirs[1])


async def test_another_users_socket_is_named_on_the_status_line_and_never_reached(
        kit: StoreKit, theirs: tuple[Path, socket.socket], root: Path) -> None:
    app = make_app(Store(kit.data_dir, socket=lambda: find_socket(None, tmp=root)))
    async with app.run_test(size=(160, 30)) as pilot:
        text = await wait_for_text(pilot, app, f"{theirs[0]} belongs to another user (uid {OTHER_UID})")
        assert "phases shown are the persisted ones" in text
    assert nobody_connected(theirs[1])
