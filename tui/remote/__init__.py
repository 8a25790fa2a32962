"""Remote hosts (issue 23): tau on other machines, streamed over the operator's ssh.

No Textual here. The remote side is `feed` (``sessiontop feed``: the store of
`tui.tau` read as the dashboard reads it, spoken as `wire` on stdout); the
local side is `link` (a process: `ssh`, or a plain subprocess) under
`source.RemoteSource`, which answers what the app asks of `tui.tau.store.Store`.
"""
