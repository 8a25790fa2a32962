"""Hosts in the model: a link's state, a host's part of the status, how ids read.

With remote hosts (issue 23) every task row carries its host, and a task id
or a session id means something only on its host. The rules for naming them
live here, so the screens, the notifications and the scripts say them alike:
``gpu1 #42`` where rows carry a host, ``#42`` where there is only this
machine. Plain values, no I/O: the link (`tui.remote.link`) keeps a
`LinkState`, the sources hand `HostStatus` to the screens in `StoreStatus`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: This machine's name among the hosts (a ``[hosts.local]`` entry is refused).
LOCAL_HOST = "local"


@dataclass(frozen=True, slots=True)
class LinkState:
    """One host's link: what the status line says of it."""

    host: str
    state: str = "connecting"  # connecting | live | lagging | reconnecting | unreachable | stopped
    reason: str = ""
    since: float = 0.0  # s: when this state began
    next_try_at: float | None = None  # s: the next attempt (reconnecting, unreachable)
    last_word_at: float | None = None  # s: the last line of a live feed (the data's age)
    remote_version: str = ""

    @property
    def connected(self) -> bool:
        """A feed answers (live or lagging): requests can be sent."""
        return self.state in ("live", "lagging")

    def describe(self, now: float) -> str:
        """One line for the status: the host, the state, why, and the next try."""
        text = f"{self.host}: {self.state}"
        if self.state == "lagging" and self.last_word_at is not None:
            text += f" (no word for {now - self.last_word_at:.0f} s)"
        if self.reason:
            text += f": {self.reason}"
        if self.next_try_at is not None:
            text += f" (next try in {max(0.0, self.next_try_at - now):.0f} s)"
        return text


@dataclass(frozen=True, slots=True)
class HostStatus:
    """One host's part of the status line when several are shown."""

    link: LinkState
    #: Whether the host's tau server answers (its word on liveness is the truth there).
    server_up: bool = False
    server: str = ""  # the host's server state in a few words ("down", "unreachable: …")
    #: Rows held for the host (shown, stale, while its link is down).
    tasks: int = 0
    #: The host's store cannot be read, in the store's words (this machine's too).
    error: str | None = None
    #: s: the data of a host not answering is this old (None: fresh, or none held).
    stale_since: float | None = None
    local: bool = False  # this machine (no link: its store is read here)

    @property
    def name(self) -> str:
        return self.link.host


def task_label(host: str, task_id: int) -> str:
    """``gpu1 #42`` for a row that carries a host, ``#42`` for this machine alone."""
    return f"{host} #{task_id}" if host else f"#{task_id}"


def host_words(host: str, text: str, task_id: int | None) -> str:
    """A notification's words with its host, its task named as a row names it:
    ``task #42 'x': active → failed`` reads ``gpu1 #42 'x': active → failed``,
    ``worker s3 of task #42 …`` reads ``worker s3 of gpu1 #42 …``; words that
    name no task get the host in front (``gpu1: tau's server is down``)."""
    if task_id is not None:
        said = f"task #{task_id}"
        if said in text:
            return text.replace(said, task_label(host, task_id), 1)
    return f"{host}: {text}"


def task_key(host: str, task_id: int) -> int | tuple[str, int]:
    """What tells a task apart: its id on this machine alone; (host, id) with hosts
    (ids are per host: ``gpu1 #42`` and ``local #42`` are two tasks)."""
    return (host, task_id) if host else task_id
