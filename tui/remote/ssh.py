"""How a feed is started: the operator's own ``ssh``, or a plain subprocess.

ssh runs with ``BatchMode=yes`` (a password or passphrase prompt would hang a
screen: it fails at once instead, and says so), with host keys checked as the
operator's ssh checks them: nothing here turns checking off, and options that
would (``StrictHostKeyChecking=no``, ``UserKnownHostsFile=/dev/null``,
``BatchMode=no``) are refused. ssh joins the remote command's words with
spaces and hands the line to the remote user's shell, so each word is quoted
here, all but a leading ``~`` or ``~user`` (which the shell expands: the
config's ``command = "~/.local/bin/sessiontop"``).

`explain` turns how an attempt ended into the one line the status shows.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass

from ..model.ssh_options import WEAKENING, check_ssh_options  # noqa: F401 - its home is the model

__all__ = ["WEAKENING", "LocalTransport", "SshTransport", "Transport", "check_ssh_options", "explain",
           "feed_words", "remote_word"]

#: Asked of every ssh (after the operator's own ssh_options, which win, but
#: for BatchMode, which comes first so that nothing can turn it off).
SSH_DEFAULTS = ("-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3")
_TILDE = re.compile(r"~[A-Za-z0-9._-]*(?=/|$)")


def remote_word(word: str) -> str:
    """``word`` quoted for the remote shell; a leading ``~``/``~user`` left to expand."""
    m = _TILDE.match(word)
    if m is None:
        return shlex.quote(word)
    rest = word[m.end():]
    return m.group(0) + (shlex.quote(rest) if rest else "")


def feed_words(data_dir: str | None, runtime_dir: str | None, extra: tuple[str, ...] = (),
               sub: tuple[str, ...] = ("feed",)) -> list[str]:
    """sessiontop's words there: ``feed`` (or ``sub``: ``list --json`` for the
    scripts) with tau's directories on that host."""
    words = list(sub)
    if data_dir:
        words += ["--data-dir", data_dir]
    if runtime_dir:
        words += ["--runtime-dir", runtime_dir]
    return words + list(extra)


@dataclass(frozen=True, slots=True)
class SshTransport:
    """A host reached with ``ssh [ssh_options] destination command feed …``."""

    host: str  # the name shown ("gpu1")
    destination: str  # an ssh destination or a Host alias of ~/.ssh/config
    ssh_options: tuple[str, ...] = ()
    command: str = "sessiontop"  # sessiontop there: a name on its PATH, a path, or words
    data_dir: str | None = None
    runtime_dir: str | None = None
    feed_options: tuple[str, ...] = ()  # more words for `feed` (tests, the benchmark)
    ssh: str = "ssh"
    via_ssh = True

    def __post_init__(self) -> None:
        check_ssh_options(self.ssh_options)
        if not self.destination or self.destination.startswith("-"):
            raise ValueError(f"ssh destination {self.destination!r}: a host, user@host or a Host alias")

    def argv(self, sub: tuple[str, ...] = ("feed",)) -> list[str]:
        """ssh running ``sessiontop feed`` there (``sub``: another subcommand's words)."""
        words = shlex.split(self.command) or ["sessiontop"]
        words += feed_words(self.data_dir, self.runtime_dir, self.feed_options if sub == ("feed",) else (), sub)
        line = " ".join(remote_word(w) for w in words)
        return [self.ssh, "-o", "BatchMode=yes", *self.ssh_options, *SSH_DEFAULTS, "-T", "--",
                self.destination, line]


@dataclass(frozen=True, slots=True)
class LocalTransport:
    """``sessiontop feed`` run here, no ssh: the tests, and the demo's several hosts."""

    host: str
    data_dir: str | None = None
    runtime_dir: str | None = None
    feed_options: tuple[str, ...] = ()
    command: tuple[str, ...] = (sys.executable, "-m", "tui")
    via_ssh = False

    def argv(self, sub: tuple[str, ...] = ("feed",)) -> list[str]:
        extra = self.feed_options if sub == ("feed",) else ()
        return [*self.command, *feed_words(self.data_dir, self.runtime_dir, extra, sub)]


Transport = SshTransport | LocalTransport


def _last(lines: list[str]) -> str:
    """ssh's own last word: its last line that is not a mere warning."""
    useful = [ln for ln in lines if ln.strip() and not ln.startswith("Warning: Permanently added")]
    return useful[-1].strip() if useful else ""


def explain(transport: Transport, status: int | None, stderr: list[str]) -> str:
    """Why an attempt that never reached a hello ended, in one line."""
    host, last = transport.host, _last(stderr)
    if transport.via_ssh and status == 255:
        m = re.search(r"Permission denied \(([^)]*)\)", last)
        if m and ({"password", "keyboard-interactive"} & set(m.group(1).split(","))):
            return f"{host} asks for a password: sessiontop uses BatchMode (use a key, or an agent)"
        if m:
            return f"{host} refused the key ({last}): sessiontop uses BatchMode"
        return last or f"ssh to {host} failed (status 255)"
    if status == 127:
        return f"sessiontop is not installed on {host} (pipx install sessiontop)"
    if status == 126:
        return f"sessiontop on {host} cannot be run: {last or 'permission denied'}"
    if "feed" in last and ("invalid choice" in last or "unrecognized arguments" in last):
        return f"{host} runs a sessiontop without `feed`: upgrade it there ({last})"
    return f"the feed on {host} ended (status {status})" + (f": {last}" if last else "")
