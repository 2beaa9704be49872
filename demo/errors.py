"""Errors the user can fix: printed as one clear line, without a traceback."""


class UserError(Exception):
    """Bad input (missing file, corrupt checkpoint, malformed session...).

    The message names the file and the reason; the CLI prints it and exits non-zero.
    """
