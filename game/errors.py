"""Errors a person can act on: the CLI prints them on one line and exits 2, no traceback."""


class UserError(Exception):
    """Bad input from a person (a flag, a file, a field). The message names what and why."""
