"""The three levels (tasks, one task, one session) and the help screen."""
