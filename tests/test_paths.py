"""Where tau's files are, computed as tau computes them (TAU.md §1.1)."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

from tui.tau.paths import default_data_dir, default_runtime_dir, find_socket


def test_xdg_variables_win_and_an_empty_one_counts_as_set() -> None:
    env = {"XDG_DATA_HOME": "/x/data", "XDG_RUNTIME_DIR": "/run/user/7", "HOME": "/home/u"}
    assert default_data_dir(env) == Path("/x/data/tau")
    assert default_runtime_dir(env) == Path("/run/user/7/tau")
    # Rust's env::var: present but empty is set, giving tau's relative path.
    assert default_data_dir({"XDG_DATA_HOME": "", "HOME": "/home/u"}) == Path("tau")
    assert default_runtime_dir({"XDG_RUNTIME_DIR": "", "HOME": "/home/u"}) == Path("tau")


def test_home_then_tmp() -> None:
    assert default_data_dir({"HOME": "/home/u"}) == Path("/home/u/.local/share/tau")
    assert default_runtime_dir({"HOME": "/home/u"}) == Path("/home/u/.tau")
    assert default_data_dir({"HOME": ""}) == Path(".local/share/tau")
    assert default_data_dir({}) == Path("/tmp/tau-data")
    # Without XDG_RUNTIME_DIR and HOME, tau's runtime dir is /tmp/tau-<server pid>:
    # a client cannot compute it, it has to look.
    assert default_runtime_dir({}) is None


def test_a_value_that_is_not_utf8_counts_as_unset() -> None:
    bad = os.fsdecode(b"/data/\xff")  # how os.environ holds undecodable bytes
    assert default_data_dir({"XDG_DATA_HOME": bad, "HOME": "/home/u"}) == Path("/home/u/.local/share/tau")


def test_a_per_process_runtime_dir_is_found_by_its_socket() -> None:
    with tempfile.TemporaryDirectory(prefix="tau-", dir="/tmp") as d:
        path = Path(d) / "tau.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            future = os.stat(path).st_mtime + 3600  # the newest of any /tmp/tau-*/tau.sock
            os.utime(path, (future, future))
            assert find_socket(None) == path
        finally:
            listener.close()
    assert find_socket(Path("/run/user/7/tau")) == Path("/run/user/7/tau/tau.sock")
