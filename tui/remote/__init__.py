"""Remote hosts (issue 23): tau on other machines, streamed over the operator's ssh.

No Textual here. The remote side is `feed` (``sessiontop feed``: the host's
store read by `tui.tau` as the dashboard reads it, spoken as `wire` on
stdout, requests on stdin). The local side is `link` (one process: `ssh`, or
a plain subprocess, with states and backoff) under `source.RemoteSource`,
which answers what the app asks of `tui.tau.store.Store`.

Modules, one job each: `codec` (snapshot dataclasses ↔ JSON, strict),
`wire` (the messages and their lines), `lines` (bounded line reading),
`outbox` (the feed's bounded stdout), `publish` (the task list as deltas),
`alerts` (the notification engine on the host), `answer` (requests),
`feed` (the process), `ssh` (how a feed is started; why it failed),
`link` (one host's process and state), `mirror` (the host's task list
here), `source` (`RemoteSource`).

For the app (wired in by `tui.hosts`, issue 23's second part): a `RemoteSource` per host, built from
`ssh.SshTransport(host, destination, ssh_options, command, data_dir,
runtime_dir)` (or `ssh.LocalTransport` for ``--demo-hosts``), stands where
the local `Store` stands; `source.link_state` is the host's state for the
status line; `source.add_event_listener` hands the host's notifications
(the engine ran there) to the local notifier; `source.stalled` gives the
rows' stall marks. It watches nothing locally: the app's file watcher is for
the local store only.
"""
