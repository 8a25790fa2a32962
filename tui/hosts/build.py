"""Sources from the command line and the config: a `RemoteSource` per host.

A ``[hosts.NAME]`` entry (or a plain ``--host`` destination) becomes the
operator's own ssh running ``sessiontop feed`` there (`tui.remote.ssh`:
BatchMode, host keys checked as ssh checks them). ``--demo-hosts N`` makes N
demo fleets instead, each its own tau (a data directory, a stand-in server in
a process of its own, another seed) behind a local ``sessiontop feed``
(`LocalTransport`): the multi-host view with no ssh and no remote machine.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..command.hosts_config import HostEntry
from ..remote.source import RemoteSource
from ..remote.ssh import LocalTransport, SshTransport

#: The demo's hosts, named as an operator's might be.
DEMO_NAMES = ("gpu1", "gpu2", "build", "ci", "lab", "gpu3", "gpu4", "edge")


def transport_for(entry: HostEntry) -> SshTransport:
    return SshTransport(entry.name, entry.ssh, ssh_options=entry.ssh_options, command=entry.command,
                        data_dir=entry.data_dir, runtime_dir=entry.runtime_dir)


def remote_sources(entries: Sequence[HostEntry]) -> list[RemoteSource]:
    """A source per host; nothing connects until the source is opened."""
    return [RemoteSource(transport_for(e)) for e in entries]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """The demo's tau ends with the dashboard, however the dashboard ends (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class DemoHosts:
    """``--demo-hosts N``: N demo fleets, each in a process of its own (as a
    host's tau is), each read by a local feed."""

    def __init__(self, root: Path, count: int, *, seed: int = 7, speed: float = 1.0) -> None:
        self.root = Path(root)
        self.count = count
        self.seed, self.speed = seed, speed
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> list[RemoteSource]:
        """Build each host's store here (a moment), start its tau, and return
        a source per host (their feeds start when the sources open)."""
        from ..demo import DemoFleet  # the demo's parts, for the demo only
        from ..demo.build import build_demo_store

        sources = []
        for i, name in enumerate(DEMO_NAMES[:self.count], 1):
            data_dir = self.root / name
            seed = self.seed + 101 * i
            if not (data_dir / "tasks.db").exists():  # built now: its feed finds a store from its first look,
                build_demo_store(data_dir, seed=seed, cast=i)  # told in projects of its own
            fleet = DemoFleet(data_dir, seed=seed, speed=self.speed)
            fleet.close()
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "tui.demo", "--data-dir", str(data_dir), "--seed", str(seed),
                 "--speed", f"{self.speed:g}"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent if sys.platform == "linux" else None))
            sources.append(RemoteSource(LocalTransport(name, str(data_dir), str(fleet.runtime_dir))))
        return sources

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []
