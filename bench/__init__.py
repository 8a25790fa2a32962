"""sessiontop's benchmark: ``python -m bench`` (see BENCHMARKS.md).

- `bench.gen`: builds tau-schema stores of sizes S, M, L (and B, a small fleet
  with one 100,000-message session), cached by size.
- `bench.writer`: the separate process that commits changes, the way tau does.
- `bench.inapp`: change-to-screen latency inside the app (headless), the
  big-transcript open, the load test.
- `bench.operator`: the real CLI in tmux: cold start, change-to-screen as an
  operator sees it, idle CPU, peak RSS.
"""
