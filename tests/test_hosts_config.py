"""Issue 23: the hosts an operator configures and picks, and what the command says of them.

``[hosts.NAME]`` tables in the config file, ``--host`` and ``--no-local`` on
the command line: a value that cannot work is one line naming the file and
the line; nothing that would weaken ssh's checks is taken; with hosts
configured, a machine without tau is no reason to refuse to start.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_readme_settings import table_rows
from tui.command.config import ConfigError, parse
from tui.command.hosts_config import HOST_KEYS, HostEntry, pick
from tui.command.options import parse_args
from tui.hosts.build import transport_for

REPO = Path(__file__).resolve().parent.parent
GOOD = """\
theme = "nord"

[hosts.gpu1]
ssh = "me@gpu1"                      # an ssh destination
ssh_options = ["-p", "2222"]
command = "~/.local/bin/sessiontop"
data_dir = "/srv/tau"
runtime_dir = "/run/user/1000"

[hosts.build-2]
ssh = "build2"                       # a Host alias of ~/.ssh/config
"""


def test_hosts_tables_become_hosts_with_their_ssh_and_their_tau() -> None:
    config = parse(GOOD, Path("c.toml"))
    assert config.theme == "nord"
    assert config.hosts == (
        HostEntry("gpu1", "me@gpu1", ("-p", "2222"), "~/.local/bin/sessiontop", "/srv/tau", "/run/user/1000"),
        HostEntry("build-2", "build2"),
    )
    # What ssh is asked: BatchMode first (nothing can turn it off), the operator's
    # options, the destination, and sessiontop's feed there with tau's paths.
    argv = transport_for(config.hosts[0]).argv()
    assert argv[:3] == ["ssh", "-o", "BatchMode=yes"] and argv[3:5] == ["-p", "2222"]
    assert argv[-2:] == ["me@gpu1", "~/.local/bin/sessiontop feed --data-dir /srv/tau --runtime-dir /run/user/1000"]
    assert transport_for(config.hosts[1]).argv()[-1] == "sessiontop feed"


@pytest.mark.parametrize(("text", "line", "words"), [
    ('[hosts.gpu1]\nport = 22\n', 2, "port is not a setting of a host"),
    ('[hosts.gpu1]\ncommand = "x"\n', 1, 'needs ssh = "user@host"'),
    ('[hosts.gpu1]\nssh = ""\n', 2, "ssh must be one line of text"),
    ('[hosts.gpu1]\nssh = "-oProxyCommand=sh"\n', 2, "not an option"),
    ('[hosts.gpu1]\nssh = "gpu1"\nssh_options = "-p 22"\n', 3, "must be a list of words"),
    ('[hosts.gpu1]\nssh = "gpu1"\nssh_options = ["-o", "StrictHostKeyChecking=no"]\n', 3, "weaken ssh's checks"),
    ('[hosts.gpu1]\nssh = "gpu1"\nssh_options = ["-oUserKnownHostsFile=/dev/null"]\n', 3, "weaken"),
    ('[hosts.gpu1]\nssh = "gpu1"\nssh_options = ["-o", "BatchMode no"]\n', 3, "weaken"),
    ('\n[hosts.local]\nssh = "x"\n', 2, "this machine's name"),
    ('[hosts."gpu 1"]\nssh = "x"\n', 1, "is not a host name"),
    ('hosts = 3\n', 1, "hosts must be tables"),
    ('[hosts]\ngpu1 = "me@gpu1"\n', None, "must be a table"),
])
def test_a_host_that_cannot_work_is_one_line_naming_the_file_and_the_line(text: str, line: int | None,
                                                                          words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(text, Path("/home/me/.config/sessiontop/config.toml"))
    message = str(err.value)
    assert "\n" not in message and words in message, message
    where = "/home/me/.config/sessiontop/config.toml" + (f" line {line}" if line else "")
    assert message.startswith(where + ":"), message


def test_host_picks_entries_or_plain_destinations() -> None:
    entries = parse(GOOD, Path("c.toml")).hosts
    assert pick(entries, None) == entries  # every configured host by default
    assert pick(entries, ["build-2"]) == (entries[1],)
    assert pick(entries, ["me@box9.lan", "gpu1"]) == (HostEntry("box9.lan", "me@box9.lan"), entries[0])
    with pytest.raises(ValueError, match="--host '-oProxyCommand=x'"):
        pick(entries, ["-oProxyCommand=x"])
    args = parse_args(["--host", "gpu1", "--host", "me@box9", "--no-local", "--demo-hosts", "2"])
    assert args.host == ["gpu1", "me@box9"] and args.no_local and args.demo and args.demo_hosts == 2


def run(*args: str, config: str | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    """The command without a terminal: what it refuses (or how far it gets) is one line."""
    if config is not None:
        path = home / ".config" / "sessiontop" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config)
    return subprocess.run([sys.executable, "-m", "tui", *args], cwd=REPO, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)


def test_a_machine_without_tau_is_refused_alone_and_shown_beside_its_hosts(own_home: Path) -> None:
    alone = run(home=own_home)
    assert alone.returncode == 2 and "does not exist" in alone.stderr
    # With hosts configured the dashboard starts on them (here it stops only for
    # want of a terminal: the data directory is no reason any more).
    with_hosts = run(config='[hosts.gpu1]\nssh = "me@gpu1"\n', home=own_home)
    assert with_hosts.returncode == 2 and "does not exist" not in with_hosts.stderr
    assert "needs a terminal" in with_hosts.stderr
    # --data-dir named: it must exist, hosts or not.
    named = run("--data-dir", str(own_home / "nope"), home=own_home)
    assert "does not exist" in named.stderr


def test_what_cannot_be_shown_is_said_in_one_line(own_home: Path) -> None:
    nothing = run("--no-local", home=own_home)
    assert nothing.returncode == 2 and nothing.stderr.count("\n") == 1
    assert "--no-local leaves nothing to show" in nothing.stderr
    weak = run(config='[hosts.gpu1]\nssh = "gpu1"\nssh_options = ["-oStrictHostKeyChecking=off"]\n', home=own_home)
    assert weak.returncode == 2 and re.search(r"config\.toml line 3: \[hosts\.gpu1\] ssh_options refused", weak.stderr)
    many = run("--demo-hosts", "9", home=own_home)
    assert many.returncode == 2 and "--demo-hosts" in many.stderr


def test_every_host_setting_has_a_row_in_the_readmes_settings_table() -> None:
    rows = table_rows()
    hosts = {m.group(1) for r in rows if (m := re.match(r"\| `\[hosts\.NAME\]` `(\w+)` \|", r))}
    assert hosts == set(HOST_KEYS)
