"""Each host's stalled sessions on its own rows, and on the `!` screen.

This machine's stalls come from the app's engine (`tui.notify.attention.mark`
does the single-host case); a remote host's from its feed (``source.stalled``:
the engine there decided them, with that host's thresholds). Ids are per
host, so a mark goes to the rows of the host that found it, never to a row of
another host that has the same id.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TypeVar

from ..model.hosts import task_label
from ..model.snapshots import SessionPane, TaskDetail, TaskListSnapshot, TaskRow
from ..model.text import one_line
from ..notify.attention import ATTENTION_SHOWN, Line, attention_lines
from ..notify.attention import mark as mark_local
from ..notify.engine import Engine, Stall
from ..notify.marks import StalledPane, StalledRow, copy_as

D = TypeVar("D")
#: Host → its stalled sessions (session id → stall).
Stalls = Mapping[str, Mapping[str, Stall]]


def _local_stalls(engine: Engine) -> dict[str, Stall]:
    return dict(engine.stalled) if engine.stalled and engine.last is not None else {}


def mark_rows(data: TaskListSnapshot, engine: Engine, local: str, remote: Stalls) -> TaskListSnapshot:
    """The list with every host's stalled tasks marked (the same object if none is)."""
    by_host: dict[str, Mapping[str, Stall]] = dict(remote)
    mine = _local_stalls(engine)
    if mine:
        by_host[local] = mine
    if not by_host:
        return data
    marked: dict[tuple[str, int], tuple[float, tuple[str, ...]]] = {}
    for host, stalls in by_host.items():
        for tid in {t for st in stalls.values() for t in st.tasks}:
            sids = tuple(sorted(sid for sid, st in stalls.items() if tid in st.tasks))
            marked[(host, tid)] = (min(stalls[sid].since for sid in sids), sids)
    if not any((t.host, t.id) in marked for t in data.tasks):
        return data
    rows = []
    for t in data.tasks:
        hit = marked.get((t.host, t.id))
        if hit is None or isinstance(t, StalledRow):
            rows.append(t)
        else:
            rows.append(copy_as(StalledRow, t, stalled_since=hit[0], stalled_sessions=hit[1]))
    return replace(data, tasks=tuple(rows))


def mark_detail(data: D, host: str, engine: Engine, local: str, remote: Stalls) -> D:
    """One host's task screen with that host's stalls marked."""
    if host == local:
        return mark_local(data, engine)
    stalls = remote.get(host)
    if not stalls or not isinstance(data, TaskDetail):
        return data
    panes = tuple(_pane(p, stalls[p.info.session_id]) if p.info.session_id in stalls else p
                  for p in data.sessions)
    task: TaskRow = data.task
    sids = tuple(sorted(sid for sid, st in stalls.items() if task.id in st.tasks))
    if sids and not isinstance(task, StalledRow):
        task = copy_as(StalledRow, task, stalled_since=min(stalls[s].since for s in sids),
                       stalled_sessions=sids)
    return replace(data, task=task, sessions=panes)  # type: ignore[return-value]


def _pane(p: SessionPane, st: Stall) -> SessionPane:
    if isinstance(p, StalledPane):
        return p
    return copy_as(StalledPane, p, stalled_since=st.since, stall_after_s=st.after_s)


def _when(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) if at else "--:--:--"


def host_attention(engine: Engine, local: str, remote: Stalls,
                   titles: Mapping[str, Mapping[int, str]], now: float) -> list[Line]:
    """What needs attention on every host: this machine's (its engine's lines,
    each saying its host), then each host's stalled sessions, the quietest first."""
    out = [(when, kind, f"{local} {text}") for when, kind, text in attention_lines(engine)]
    stalled: list[tuple[float, Line]] = []
    for host, stalls in remote.items():
        for sid, st in stalls.items():
            tid = min(st.tasks) if st.tasks else 0
            title = one_line(titles.get(host, {}).get(tid, ""), 60)
            stalled.append((st.since, (_when(st.since), "stall",
                                       f"{one_line(task_label(host, tid), 60)} {title} · {one_line(sid, 40)} · "
                                       f"quiet {(now - st.since) / 60:.0f} min "
                                       f"(limit {st.after_s / 60:.0f})")))
    out.extend(line for _, line in sorted(stalled)[:ATTENTION_SHOWN])
    return out
