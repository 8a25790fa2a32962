"""Issue 23 through a real OpenSSH server on 127.0.0.1, with keys this test makes.

`Sshd` makes a host key, a user key, ``authorized_keys``, a ``known_hosts``
that names the host key, an ``ssh_config`` (``-F``) and an ``sshd_config``,
and runs ``/usr/sbin/sshd -D`` on a free port; ssh checks the host key
against that known_hosts (checking on, never /dev/null). The remote command
is this checkout's ``sessiontop`` (the venv's), run by the remote user's
shell, as on a real host. CI installs openssh-server (.ci/run): these tests
are skipped only where ``/usr/sbin/sshd`` is absent.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import apoll, poll
from tests.storekit import BASE_MS, StoreKit
from tui.remote.source import RemoteSource
from tui.remote.ssh import SshTransport, check_ssh_options, remote_word

SSHD = Path("/usr/sbin/sshd")
SESSIONTOP = Path(sys.executable).parent / "sessiontop"
pytestmark = pytest.mark.skipif(not SSHD.exists(), reason="/usr/sbin/sshd is absent "
                                "(apt-get install openssh-server; CI installs it)")
QUICK = (0.3, 0.6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


class Sshd:
    """A private sshd on 127.0.0.1 and an ssh_config that reaches it as ``gpu1``."""

    def __init__(self, root: Path, *, authorize: bool = True, sshd_extra: str = "",
                 known_key: str | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.port, self.user = root, free_port(), getpass.getuser()
        host_pub = keygen(root / "host_key")
        user_pub = keygen(root / "user_key")
        other_pub = keygen(root / "other_key")
        (root / "authorized_keys").write_text((user_pub if authorize else other_pub) + "\n")
        # known_hosts names the host key (or, to test the check, another one).
        (root / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {known_key or host_pub}\n")
        (root / "empty").mkdir(exist_ok=True)
        self.sshd_config = root / "sshd_config"
        self.sshd_config.write_text("\n".join([
            sshd_extra,  # first: sshd takes the first value of a keyword
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {root / 'host_key'}", "PidFile none",
            f"AuthorizedKeysFile {root / 'authorized_keys'}", "PubkeyAuthentication yes",
            # root in this sandbox: allowed in by key only, in this test's sshd alone
            "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "StrictModes no", "UsePAM no",
            "AcceptEnv XDG_CONFIG_HOME", ""]))
        self.ssh_config = root / "ssh_config"
        self.ssh_config.write_text("\n".join([
            "Host gpu1", "  HostName 127.0.0.1", f"  Port {self.port}", f"  User {self.user}",
            f"  IdentityFile {root / 'user_key'}", "  IdentitiesOnly yes",
            f"  UserKnownHostsFile {root / 'known_hosts'}", "  StrictHostKeyChecking yes",
            # the remote feed reads its own config dir: this test's, not the machine's
            f"  SetEnv XDG_CONFIG_HOME={root / 'empty'}", ""]))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sshd:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True) if os.geteuid() == 0 else None
        self.log = open(self.root / "sshd.log", "wb")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(self.sshd_config)],
                                     stdout=self.log, stderr=subprocess.STDOUT)

        def listening() -> bool:
            assert self.proc is not None and self.proc.poll() is None, (self.root / "sshd.log").read_text()
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0
        poll(listening, what="sshd listening")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
        self.log.close()

    def transport(self, kit: StoreKit | None = None, **kw: Any) -> SshTransport:
        kw.setdefault("command", str(SESSIONTOP))
        if kit is not None:
            kw.setdefault("data_dir", str(kit.data_dir))
            kw.setdefault("runtime_dir", str(kit.runtime_dir))
        return SshTransport("gpu1", "gpu1", ssh_options=("-F", str(self.ssh_config)), **kw)


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    d = Sshd(tmp_path / "ssh").start()
    yield d
    d.stop()


@contextlib.asynccontextmanager
async def remote(transport: SshTransport, **kw: Any) -> AsyncIterator[RemoteSource]:
    source = RemoteSource(transport, backoff=QUICK, **kw)
    await source.open()
    try:
        yield source
    finally:
        await source.close()


def feeds_of(kit: StoreKit) -> list[int]:
    """The pids of feeds reading this store (on "the host": this machine)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                words = (d / "cmdline").read_bytes().split(b"\0")
                if b"feed" in words and str(kit.data_dir).encode() in words:
                    out.append(int(d.name))
    return out


async def unreachable(source: RemoteSource) -> str:
    await apoll(lambda: source.link_state.state == "unreachable", 30, what="unreachable",
                details=lambda: repr(source.link_state))
    return source.link_state.reason


async def test_a_phase_change_reaches_a_remote_source_through_ssh(fleet: StoreKit, sshd: Sshd) -> None:
    started = time.perf_counter()
    async with remote(sshd.transport(fleet)) as source:
        await apoll(lambda: source.mirror.complete, 30, what="the first rows", step=0.005,
                    details=lambda: repr(source.link_state))
        first_rows_ms = (time.perf_counter() - started) * 1000
        await apoll(lambda: source.link_state.state == "live" and source.mirror.complete
                    and source.mirror.rows[1].busiest_phase == "running tools", 30, what="live through ssh",
                    details=lambda: repr(source.link_state))
        assert source.hello is not None and source.hello.data_dir == str(fleet.data_dir)
        # Drill-down works as for the local machine.
        detail = await source.read_task(1, recent=1)
        assert detail is not None and [p.info.session_id for p in detail.sessions] == ["s1", "s2", "s3", "s4"]
        page = await source.read_transcript("s3", limit=2)
        assert page.has_older and page.messages[-1].is_error

        # Measured, not asserted (the benchmark holds the targets): a phase
        # change in the server's memory, and a stored change, to the mirror.
        seen: dict[str, float] = {}

        def look() -> None:
            rows = source.mirror.rows
            seen.setdefault(f"{rows[1].busiest_phase}/{rows[2].state}", time.perf_counter())
        source.live.add_listener(look)
        phase_ms, phase_bytes, all_bytes = [], [], []
        kinds = source.link.bytes_by_kind
        for i in range(20):
            label, wire = ("working", "Responding") if i % 2 == 0 else ("running tools", "ToolExec")
            await asyncio.sleep(0.1)  # pacing (the feed reads at most every 40 ms), not a synchronisation
            before, deltas, t0 = source.link.bytes_in, kinds.get("delta", 0), time.perf_counter()
            fleet.live("s3", wire)
            await apoll(lambda: f"{label}/review" in seen, 30, what=label, step=0.002)
            phase_ms.append((seen.pop(f"{label}/review") - t0) * 1000)
            phase_bytes.append(kinds["delta"] - deltas)
            await apoll(lambda: source.link.bytes_in - before > phase_bytes[-1], what="its event")
            all_bytes.append(source.link.bytes_in - before)
            seen.clear()
        stored_ms = []
        for i, state in enumerate(["failed", "review"] * 5):
            await asyncio.sleep(0.1)
            t0 = time.perf_counter()
            fleet.set_state(2, state, at=BASE_MS + i)
            await apoll(lambda: any(k.endswith(f"/{state}") for k in seen), 30, what=state, step=0.002)
            stored_ms.append((min(v for k, v in seen.items() if k.endswith(f"/{state}")) - t0) * 1000)
            seen.clear()
        rtt = [await source.ping() * 1000 for _ in range(10)]
        print(f"\nssh 127.0.0.1: first rows {first_rows_ms:.0f} ms; phase change p50 {statistics.median(phase_ms):.1f} ms "
              f"(max {max(phase_ms):.1f}), delta {statistics.median(phase_bytes):.0f} bytes "
              f"(with its event {statistics.median(all_bytes):.0f}); stored change p50 "
              f"{statistics.median(stored_ms):.1f} ms (max {max(stored_ms):.1f}); ping p50 "
              f"{statistics.median(rtt):.2f} ms")
        assert max(phase_bytes) < 1024  # a phase change is under a kilobyte on the wire
    # The link closed: the feed on the host ends with it.
    poll(lambda: not feeds_of(fleet), what="the remote feed to end")


async def test_a_link_cut_mid_stream_is_reconnecting_then_live_and_leaves_no_feed(
        fleet: StoreKit, sshd: Sshd) -> None:
    async with remote(sshd.transport(fleet)) as source:
        await apoll(lambda: source.link_state.state == "live" and source.mirror.complete, 30, what="live")
        (feed,) = feeds_of(fleet)
        # The sshd serving this connection dies (the host's side of the link cut).
        children = [int(p) for p in (Path("/proc") / str(sshd.proc.pid) / "task" / str(sshd.proc.pid)
                                     / "children").read_text().split()]  # type: ignore[union-attr]
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        await apoll(lambda: source.link_state.state == "reconnecting", 30, what="reconnecting",
                    details=lambda: repr(source.link_state))
        reason = source.link_state.reason
        assert reason.startswith("link lost: ") and "127.0.0.1" in reason, reason
        assert len((await source.read_task_list()).tasks) == 8  # the last good data, stale
        await apoll(lambda: source.link_state.state == "live", 30, what="live again")
        poll(lambda: feed not in feeds_of(fleet), what="the cut feed to end")
        # The local ssh killed, this time.
        assert source.link.pid is not None
        os.kill(source.link.pid, signal.SIGKILL)
        await apoll(lambda: source.link_state.state == "reconnecting", 30, what="reconnecting")
        assert source.link_state.reason == "link lost: the feed ended (status -9)"
        await apoll(lambda: source.link_state.state == "live", 30, what="live again")
    poll(lambda: not feeds_of(fleet), what="every feed to end")


async def test_a_host_down_at_start_is_unreachable_with_sshs_word_then_comes_up(
        kit: StoreKit, tmp_path: Path) -> None:
    host = Sshd(tmp_path / "ssh")  # not started: nothing listens on its port
    async with remote(host.transport(kit)) as source:
        reason = await unreachable(source)
        assert reason == f"ssh: connect to host 127.0.0.1 port {host.port}: Connection refused"
        host.start()
        try:
            await apoll(lambda: source.link_state.state == "live", 30, what="live once it is up")
        finally:
            await source.close()
            host.stop()


async def test_a_host_key_that_does_not_match_is_refused(kit: StoreKit, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    host = Sshd(tmp_path / "ssh", known_key=stranger).start()
    try:
        async with remote(host.transport(kit)) as source:
            assert await unreachable(source) == "Host key verification failed."
    finally:
        host.stop()


async def test_sshd_refusing_the_key(kit: StoreKit, tmp_path: Path) -> None:
    host = Sshd(tmp_path / "ssh", authorize=False).start()
    try:
        async with remote(host.transport(kit)) as source:
            reason = await unreachable(source)
        assert reason == f"gpu1 refused the key ({host.user}@127.0.0.1: Permission denied (publickey).): " \
                         "sessiontop uses BatchMode"
    finally:
        host.stop()


async def test_a_host_that_asks_for_a_password(kit: StoreKit, tmp_path: Path) -> None:
    host = Sshd(tmp_path / "ssh", authorize=False,
                sshd_extra="PasswordAuthentication yes\nPermitRootLogin yes").start()
    try:
        async with remote(host.transport(kit)) as source:
            reason = await unreachable(source)  # at once: a prompt would wait, then time out
        assert reason == "gpu1 asks for a password: sessiontop uses BatchMode (use a key, or an agent)"
    finally:
        host.stop()


async def test_a_host_without_sessiontop(kit: StoreKit, sshd: Sshd) -> None:
    async with remote(sshd.transport(kit, command="/nonexistent/bin/sessiontop")) as source:
        assert await unreachable(source) == "sessiontop is not installed on gpu1 (pipx install sessiontop)"


def test_the_remote_command_survives_the_remote_shell(tmp_path: Path) -> None:
    """ssh hands the joined words to the remote user's shell: each word arrives
    whole (spaces, quotes, $, ;), and a leading ~ is the remote home."""
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    echo = home / ".local" / "bin" / "sessiontop"
    echo.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    echo.chmod(0o755)
    t = SshTransport("gpu1", "me@gpu1", command="~/.local/bin/sessiontop",
                     data_dir="/srv/tau data/it's $HOME;rm -rf x", runtime_dir="~/run")
    argv = t.argv()
    assert argv[:3] == ["ssh", "-o", "BatchMode=yes"] and argv[-3:-1] == ["--", "me@gpu1"]
    out = subprocess.run(["sh", "-c", argv[-1]], env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["feed", "--data-dir", "/srv/tau data/it's $HOME;rm -rf x", "--runtime-dir", f"{home}/run"]
    assert remote_word("~alice/bin/x y") == "~alice" + shlex.quote("/bin/x y")


@pytest.mark.parametrize("options", [("-o", "StrictHostKeyChecking=no"), ("-oUserKnownHostsFile=/dev/null",),
                                     ("-o", "BatchMode no"), ("-o", "stricthostkeychecking = off")])
def test_options_that_weaken_ssh_are_refused(options: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="would weaken ssh's checks"):
        check_ssh_options(options)
    with pytest.raises(ValueError):
        SshTransport("gpu1", "gpu1", ssh_options=options)
    with pytest.raises(ValueError):
        SshTransport("gpu1", "-oProxyCommand=touch /tmp/x")
