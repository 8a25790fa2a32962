"""ssh options sessiontop refuses: those that would weaken ssh's checks or let it prompt.

Checked where a host is configured (`tui.command.hosts_config`, with the
file's line) and again where ssh is started (`tui.remote.ssh.SshTransport`):
sessiontop runs ssh with BatchMode on and host keys checked as the operator's
ssh checks them, and no option may turn either off. Plain values: no I/O.
"""

from __future__ import annotations

import re

#: What weakens ssh's checks or lets it prompt: refused in ssh_options.
WEAKENING = {
    "stricthostkeychecking": {"no", "off"},
    "userknownhostsfile": {"/dev/null"},
    "batchmode": {"no"},
}


def check_ssh_options(options: tuple[str, ...] | list[str]) -> None:
    """Raise ValueError (one line) for an option that weakens ssh's checks."""
    words = list(options)
    for i, word in enumerate(words):
        if word == "-o" and i + 1 < len(words):
            setting = words[i + 1]
        elif word.startswith("-o") and len(word) > 2:
            setting = word[2:]
        else:
            continue
        parts = re.split(r"\s*=\s*|\s+", setting.strip(), maxsplit=1)
        key, value = parts[0].lower(), (parts[1] if len(parts) > 1 else "").strip().strip('"').lower()
        if value in WEAKENING.get(key, ()):
            raise ValueError(f"ssh_options: {setting!r} would weaken ssh's checks; sessiontop keeps "
                             f"BatchMode on and host keys checked")
