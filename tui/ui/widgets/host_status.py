"""What the status line says of each host when several are shown (issue 23).

The first line names every host with a mark for its state (``● local  ● gpu1
⟳ gpu2  ✕ gpu3``); a host that is not simply live gets a line of its own
below, from its link's own words (`LinkState.describe`: the state, why, the
next try) and, while its rows are the last good ones, how old they are.
Host names and what a host sent are data: shown literally (`one_line`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import format as fmt
from ...model.hosts import HostStatus
from ...model.text import one_line

#: A link's state as a mark on the first line.
MARKS = {"live": "●", "lagging": "◐", "connecting": "◌", "reconnecting": "⟳", "unreachable": "✕",
         "stopped": "■", "off": "–"}
#: Lines of hosts not live, at most (then one line counts the rest).
SHOWN = 3


def host_mark(h: HostStatus) -> str:
    """● live with its tau server answering, ○ live without it, else the link's mark."""
    if h.error and h.local:
        return "–" if h.link.state == "off" else "⚠"
    if h.link.state == "live":
        return "●" if h.server_up else "○"
    return MARKS.get(h.link.state, "?")


def hosts_text(hosts: Sequence[HostStatus]) -> str:
    """The first line's part: each host with its mark."""
    return "  ".join(f"{host_mark(h)} {one_line(h.name, 24)}" for h in hosts)


def host_lines(hosts: Sequence[HostStatus], now: float) -> list[str]:
    """A line for each host that is not simply live (the troubled first)."""
    out: list[tuple[int, str]] = []
    for h in hosts:
        name = one_line(h.name, 24)
        stale = ""
        if h.stale_since is not None and h.tasks:
            stale = f" · its {h.tasks:,} tasks shown are stale, from {fmt.age(h.stale_since, now)} ago"
        if h.local and h.error:
            rank = 1 if h.link.state == "off" else 0
            out.append((rank, f"{'ⓘ' if rank else '⚠'} {name}: {one_line(h.error, 200)}{stale}"))
            continue
        state = h.link.state
        if state == "live" or h.local:
            if not h.server_up and h.server not in ("", "up", "draining", "starting"):
                out.append((2, f"ⓘ {name}: tau server {one_line(h.server, 20)} there: "
                               f"phases shown are the persisted ones"))
            continue
        if state == "connecting" and not h.tasks:
            out.append((2, f"ⓘ {name}: connecting…"))
            continue
        out.append((0, f"⚠ {one_line(h.link.describe(now), 240)}{stale}"))
    out.sort(key=lambda rl: rl[0])
    lines = [line for _, line in out[:SHOWN]]
    if len(out) > SHOWN:
        lines.append(f"ⓘ +{len(out) - SHOWN} more hosts not simply live")
    return lines
