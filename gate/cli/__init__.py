"""The command line: a thin layer that turns options into library calls and errors into exit codes."""
