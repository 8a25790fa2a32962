"""The benchmark's figures as tables, and each target met or not.

``python -m bench.report [bench/results.json]`` prints the state table that
heads BENCHMARKS.md (every target, the figure measured, met or not, from one
results file: one run on one commit) and the detailed tables under it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Issue 22's floors (through tmux, on L unless said), and the older targets
#: the benchmark still measures (issues 6, 8, 10). Floors, not ceilings.
TARGETS: dict[str, float] = {
    # issue 22
    "latency_L_p50_ms": 25, "latency_L_p99_ms": 50,  # every disk-path kind, through tmux
    "after_quiet_ms": 50,  # the first change after 60 s of quiet, through tmux
    "cold_start_L_s": 0.8, "cold_start_S_s": 0.4,
    "peak_rss_L_mb": 110,  # the operator session's VmHWM
    "idle_cpu_percent": 0.3,  # 50 sessions subscribed, a 60 s window
    "socket_inapp_p99_ms": 30,
    "load_p99_ms": 80, "load_cpu_percent": 50, "load_rate_min": 95,  # 100 commits/s asked, 60 s
    # older, still measured
    "latency_M_p50_ms": 50, "latency_M_p99_ms": 150, "poll2_over_event_p50": 15,
    "open_100k_s": 0.5, "load_rss_growth_mb": 5.0, "socket_p50_ms": 20, "socket_p99_ms": 50,
    "costly_requests_per_min": 0, "exit_s": 5.0,
}


def g(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:.1f}" if abs(v) < 100 else f"{v:.0f}"
    return f"{v}{unit}"


def lat_cell(s: dict[str, Any] | None) -> str:
    if not s or not s.get("n"):
        return "—"
    t = f" ({s['timeouts']} lost)" if s.get("timeouts") else ""
    return f"{fmt(s['p50'])} / {fmt(s['p95'])} / {fmt(s['p99'])} / {fmt(s['max'])}{t}"


def pp(s: dict[str, Any] | None) -> str:
    return "—" if not s or not s.get("n") else f"{fmt(s['p50'])} / {fmt(s['p99'])}"


def per_min(c: dict[str, Any] | None) -> str:
    if not c:
        return "—"
    kinds = ", ".join(f"{k} {fmt(v)}" for k, v in c.get("per_minute", {}).items()) or "none"
    return f"{fmt(c.get('total_per_minute'))} ({kinds})"


def socket_tables(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    out = ["### The socket path: a phase change in tau's server → on screen, ms (p50 / p95 / p99 / max)", "",
           "| size | in-app | in-app: list / task screen p50 / p99 | operator (tmux) "
           "| operator: list / task screen p50 / p99 |",
           "|---|---|---|---|---|"]
    for size, r in sizes.items():
        ia, op = g(r, "inapp_socket"), g(r, "operator", "socket")
        n_ia = f" n={ia['all']['n']}" if ia else ""
        n_op = f" n={op['all']['n']}" if op else ""
        out.append(f"| {size} | {lat_cell(g(ia, 'all'))}{n_ia} | {pp(g(ia, 'list'))} · {pp(g(ia, 'task'))} "
                   f"| {lat_cell(g(op, 'all'))}{n_op} | {pp(g(op, 'list'))} · {pp(g(op, 'task'))} |")
    out += ["", "### What the dashboard costs tau: requests per minute by type, idle CPU", "",
            "| size | running sessions (subscribed) | idle CPU, % of a core | idle: requests / min "
            "| under load: requests / min | costly (list_sessions, get_session_info, task_get, "
            "get_messages) idle / load |",
            "|---|---|---|---|---|---|"]
    for size, r in sizes.items():
        tc = g(r, "operator", "tau_cost") or {}
        idle, load = tc.get("idle"), tc.get("load")
        subs = f"{fmt(g(idle, 'live'))} ({fmt(g(idle, 'subscribers'))})" if idle else "—"
        costly = f"{fmt(g(idle, 'costly'))} / {fmt(g(load, 'costly'))}" if tc else "—"
        out.append(f"| {size} | {subs} | {fmt(g(r, 'operator', 'idle', 'cpu_percent_of_core'))} "
                   f"| {per_min(idle)} | {per_min(load)} | {costly} |")
    return "\n".join(out)


def kind_table(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    kinds = ("list/title", "list/session", "list/created", "list/state", "task/message", "task/exit",
             "task/start", "task/session")
    out = ["### The disk path by kind (in-app / operator), p50 / p99 ms", "",
           "| size | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for size, r in sizes.items():
        cells = [f"{pp(g(r, 'inapp_event', 'by_kind', k))} · {pp(g(r, 'operator', 'latency', 'by_kind', k))}"
                 for k in kinds]
        out.append(f"| {size} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def tables(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    out = ["### Change-to-screen latency, disk path, ms (p50 / p95 / p99 / max)", "",
           "| size | in-app, events | operator (tmux), events | in-app `--poll 2` | in-app `--poll 1` "
           "| p50 ratio poll 2 / events | p50 ratio poll 1 / events |",
           "|---|---|---|---|---|---|---|"]
    for size, r in sizes.items():
        ev, p2, p1 = g(r, "inapp_event", "all"), g(r, "inapp_poll2", "all"), g(r, "inapp_poll1", "all")
        ratio2 = (p2["p50"] / ev["p50"]) if ev and p2 and ev.get("p50") and p2.get("p50") else None
        ratio1 = (p1["p50"] / ev["p50"]) if ev and p1 and ev.get("p50") and p1.get("p50") else None
        n = f" n={ev['n']}" if ev else ""
        out.append(f"| {size} | {lat_cell(ev)}{n} | {lat_cell(g(r, 'operator', 'latency', 'all'))} "
                   f"| {lat_cell(p2)} | {lat_cell(p1)} | {fmt(ratio2, '×')} | {fmt(ratio1, '×')} |")
    out += ["", "### By screen (in-app events / operator), p50 / p99 ms", "",
            "| size | task list, in-app | task list, operator | task screen, in-app | task screen, operator |",
            "|---|---|---|---|---|"]
    for size, r in sizes.items():
        out.append(f"| {size} | {pp(g(r, 'inapp_event', 'list'))} | {pp(g(r, 'operator', 'latency', 'list'))} "
                   f"| {pp(g(r, 'inapp_event', 'task'))} | {pp(g(r, 'operator', 'latency', 'task'))} |")
    out += ["", "### Start, idle, load, memory", "",
            "| size | cold start p50 / max, s | open biggest session (msgs): cold / warm p50, s "
            "| idle CPU, % of a core | first change after a quiet spell (operator): p50 / max, ms "
            "| load: p50 / p99 ms, CPU %, RSS start→end MB | peak RSS (VmHWM), MB |",
            "|---|---|---|---|---|---|---|"]
    for size, r in sizes.items():
        cs = r.get("cold_start") or {}
        cold = (f"{cs['p50'] / 1000:.2f} / {cs['max'] / 1000:.2f}" if cs.get("n") else "—")
        ob = r.get("open_biggest") or {}
        opened = (f"({ob['messages']:,}) {fmt(g(ob, 'cold_open', 'p50') and g(ob, 'cold_open', 'p50') / 1000)} / "
                  f"{fmt(g(ob, 'warm_open', 'p50') and g(ob, 'warm_open', 'p50') / 1000)}" if ob else "—")
        ld = g(r, "operator", "load") or {}
        load = (f"{fmt(g(ld, 'latency', 'p50'))} / {fmt(g(ld, 'latency', 'p99'))}, "
                f"{fmt(ld.get('cpu_percent_of_core'))} %, {fmt(ld.get('rss_start_mb'))}→{fmt(ld.get('rss_end_mb'))}"
                if ld else "—")
        if ld and g(ld, "latency", "timeouts"):
            load += f" ({ld['latency']['timeouts']} markers never shown)"
        aq = g(r, "operator", "after_quiet") or {}
        quiet = f"{fmt(aq.get('p50'))} / {fmt(aq.get('max'))} (n={aq.get('n')})" if aq.get("n") else "—"
        out.append(f"| {size} | {cold} | {opened} | {fmt(g(r, 'operator', 'idle', 'cpu_percent_of_core'))} "
                   f"| {quiet} | {load} | {fmt(g(r, 'operator', 'vmhwm_mb'))} |")
    big = results.get("big_transcript")
    if big:
        out += ["", f"Opening a {big['messages']:,}-message transcript (store B): cold p50 "
                f"{fmt(g(big, 'cold_open', 'p50'))} ms, max {fmt(g(big, 'cold_open', 'max'))} ms; "
                f"warm p50 {fmt(g(big, 'warm_open', 'p50'))} ms."]
    return "\n".join(out) + "\n\n" + kind_table(results) + "\n\n" + socket_tables(results)


def _row(rows: list[dict[str, Any]], what: str, value: float | None, limit: float, unit: str,
         source: str, *, at_least: bool = False, issue: str = "22") -> None:
    if value is None:
        return
    ok = value >= limit if at_least else value <= limit
    shown = f"{value:.2f}" if unit == " s" else fmt(float(value))  # (0.82 s is not "0.8 s")
    rows.append({"target": what, "limit": f"{'≥' if at_least else '≤'} {limit:g}{unit}",
                 "measured": f"{shown}{unit}", "verdict": "met" if ok else "MISSED",
                 "issue": issue, "source": source})


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target that was measured: what, the limit, the figure, met or not."""
    T = TARGETS
    rows: list[dict[str, Any]] = []
    sizes = results.get("sizes", {})
    L, M = sizes.get("L", {}), sizes.get("M", {})
    # --- issue 22 ---
    op = g(L, "operator", "latency")
    if op and g(op, "all", "n"):
        _row(rows, "L stored change → screen, p50 (tmux, all kinds)", op["all"]["p50"],
             T["latency_L_p50_ms"], " ms", "L.operator.latency.all")
        _row(rows, "L stored change → screen, p99 (tmux, all kinds)", op["all"]["p99"],
             T["latency_L_p99_ms"], " ms", "L.operator.latency.all")
        kinds = {k: v for k, v in (op.get("by_kind") or {}).items() if v.get("n")}
        if kinds:
            k50 = max(kinds, key=lambda k: kinds[k]["p50"])
            k99 = max(kinds, key=lambda k: kinds[k]["p99"])
            _row(rows, f"L slowest kind, p50 (tmux: {k50})", kinds[k50]["p50"], T["latency_L_p50_ms"],
                 " ms", f"L.operator.latency.by_kind.{k50}")
            _row(rows, f"L slowest kind, p99 (tmux: {k99})", kinds[k99]["p99"], T["latency_L_p99_ms"],
                 " ms", f"L.operator.latency.by_kind.{k99}")
    aq = g(L, "operator", "after_quiet")
    if aq and aq.get("n"):
        _row(rows, f"L first change after {max(aq.get('quiet_s') or [0]):g} s of quiet, max of {aq['n']} (tmux)",
             aq["max"], T["after_quiet_ms"], " ms", "L.operator.after_quiet")
    for size, key in (("L", "cold_start_L_s"), ("S", "cold_start_S_s")):
        p50 = g(sizes, size, "cold_start", "p50")
        _row(rows, f"{size} start → first task rows, p50 (tmux)", None if p50 is None else p50 / 1000,
             T[key], " s", f"{size}.cold_start")
    _row(rows, "L peak RSS, operator session", g(L, "operator", "vmhwm_mb"), T["peak_rss_L_mb"], " MB",
         "L.operator.vmhwm_mb")
    for size, r in sizes.items():
        subs = g(r, "operator", "tau_cost", "idle", "subscribers")
        secs = g(r, "operator", "idle", "seconds")
        _row(rows, f"{size} idle, {subs} sessions subscribed, {fmt(secs)} s window",
             g(r, "operator", "idle", "cpu_percent_of_core"), T["idle_cpu_percent"], " % of a core",
             f"{size}.operator.idle")
    _row(rows, "L socket path in-app, p99", g(L, "inapp_socket", "all", "p99"), T["socket_inapp_p99_ms"],
         " ms", "L.inapp_socket.all")
    ld = g(L, "operator", "load")
    if ld:
        what = f"L {ld['rate_asked']:g} commits/s for {fmt(g(ld, 'writer', 'seconds'))} s"
        _row(rows, f"{what}: p99 (tmux)", g(ld, "latency", "p99"), T["load_p99_ms"], " ms", "L.operator.load")
        _row(rows, f"{what}: CPU", ld.get("cpu_percent_of_core"), T["load_cpu_percent"], " % of a core",
             "L.operator.load")
        _row(rows, f"{what}: commits a second reached", g(ld, "writer", "rate"), T["load_rate_min"], "/s",
             "L.operator.load.writer", at_least=True)
    # --- older targets, still measured ---
    opm = g(M, "operator", "latency", "all")
    if opm and opm.get("n"):
        _row(rows, "M stored change → screen, p50 (tmux)", opm["p50"], T["latency_M_p50_ms"], " ms",
             "M.operator.latency.all", issue="6")
        _row(rows, "M stored change → screen, p99 (tmux)", opm["p99"], T["latency_M_p99_ms"], " ms",
             "M.operator.latency.all", issue="6")
    for size, r in sizes.items():
        ev, p2 = g(r, "inapp_event", "all"), g(r, "inapp_poll2", "all")
        if ev and p2 and ev.get("p50") and p2.get("p50"):
            _row(rows, f"{size} --poll 2 / events at p50 (in-app)", p2["p50"] / ev["p50"],
                 T["poll2_over_event_p50"], "×", f"{size}.inapp_poll2 / inapp_event", at_least=True, issue="6")
    big = results.get("big_transcript")
    if big and g(big, "cold_open", "p50") is not None:
        _row(rows, "100k-message transcript opens, p50 (store B)", big["cold_open"]["p50"] / 1000,
             T["open_100k_s"], " s", "big_transcript.cold_open", issue="6")
    if g(L, "open_biggest", "cold_open", "p50") is not None:
        _row(rows, "100k-message transcript opens, p50 (store L)", L["open_biggest"]["cold_open"]["p50"] / 1000,
             T["open_100k_s"], " s", "L.open_biggest.cold_open", issue="6")
    for size, r in sizes.items():
        series = g(r, "operator", "load", "rss_series_mb") or []
        if len(series) >= 4:
            k = max(1, len(series) // 4)
            _row(rows, f"{size} RSS growth under load (last quarter − first)",
                 max(series[-k:]) - max(series[:k]), T["load_rss_growth_mb"], " MB",
                 f"{size}.operator.load.rss_series_mb", issue="6")
    for size, r in sizes.items():
        for label, path in (("tmux", ("operator", "socket", "all")), ("in-app", ("inapp_socket", "all"))):
            s = g(r, *path)
            if s and s.get("n"):
                _row(rows, f"{size} socket path p50 ({label})", s["p50"], T["socket_p50_ms"], " ms",
                     f"{size}." + ".".join(path), issue="8")
                _row(rows, f"{size} socket path p99 ({label})", s["p99"], T["socket_p99_ms"], " ms",
                     f"{size}." + ".".join(path), issue="8")
        for window in ("idle", "load"):
            c = g(r, "operator", "tau_cost", window)
            if c:
                _row(rows, f"{size} costly requests to tau, {window}", c["costly_per_minute"],
                     T["costly_requests_per_min"], " /min", f"{size}.operator.tau_cost.{window}", issue="8")
        ex = g(r, "operator", "exit_ms")
        _row(rows, f"{size} q → the process ended, after the load", None if ex is None else ex / 1000,
             T["exit_s"], " s", f"{size}.operator.exit_ms", issue="6")
    return rows


def verdict_table(rows: list[dict[str, Any]]) -> str:
    """One line per target; the same target on several sizes on one line
    ("S · M · L"), so that the table fits a screen."""
    merged: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for r in rows:
        size, _, rest = r["target"].partition(" ")
        if size not in ("S", "M", "L") or "subscribed" in rest:
            size, rest = "", r["target"]
        merged.setdefault((rest, r["limit"]), []).append((size, r))
    out = ["| target | issue | floor | measured | |", "|---|---|---|---|---|"]
    for (what, limit), group in merged.items():
        issue = group[0][1].get("issue", "")
        if len(group) == 1:
            size, r = group[0]
            out.append(f"| {r['target']} | {issue} | {limit} | {r['measured']} | {r['verdict']} |")
            continue
        sizes = "/".join(s for s, _ in group)
        measured = " · ".join(r["measured"] for _, r in group)
        missed = [s for s, r in group if r["verdict"] != "met"]
        verdict = "met" if not missed else f"MISSED ({', '.join(missed)})"
        out.append(f"| {sizes} {what} | {issue} | {limit} | {measured} | {verdict} |")
    return "\n".join(out)


def host_rows(hosts: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Issue 23's verdicts, as `bench/hosts.py` wrote them beside the run's."""
    out = []
    for key, text in ((hosts or {}).get("verdicts") or {}).items():
        measured, _, rest = str(text).partition(" (target ")
        limit, _, verdict = rest.partition("): ")
        out.append({"target": f"hosts: {key}", "limit": limit, "measured": measured,
                    "verdict": verdict, "issue": "23", "source": "bench/hosts.json"})
    return out


def state_table(results: dict[str, Any], hosts: dict[str, Any] | None = None) -> str:
    """The table that heads BENCHMARKS.md: the run, then every target (and the
    remote hosts' of the same run, from bench/hosts.json)."""
    git = results.get("git", {})
    head = (f"Measured {results.get('started', '?')[:10]} on commit `{git.get('commit', '?')}`"
            f"{' (tui/ dirty)' if git.get('tui_dirty') else ''} by one `python -m bench` "
            f"({fmt((results.get('seconds') or 0) / 60)} min; `bench/results.json`).")
    rows = list(results.get("verdicts") or verdicts(results))
    if hosts and str(hosts.get("started", "")) >= str(results.get("started", "~")):
        rows += host_rows(hosts)
    return head + "\n\n" + verdict_table(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path, nargs="?",
                    default=Path(__file__).resolve().parent / "results.json")
    ap.add_argument("--all", action="store_true", help="the detailed tables too")
    args = ap.parse_args(argv)
    results = json.loads(args.results.read_text())
    results["verdicts"] = verdicts(results)
    hosts_file = args.results.with_name("hosts.json")
    hosts = json.loads(hosts_file.read_text()) if hosts_file.is_file() else None
    print(state_table(results, hosts))
    if args.all:
        print("\n" + tables(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
