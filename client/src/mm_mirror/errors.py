"""Exit codes that a cron job or a script can trust, and the errors that carry them."""

from __future__ import annotations

OK = 0
GAPS = 1  # check: the copy has gaps; sync: not whole after its bounded rounds
USAGE = 2  # bad arguments or configuration (argparse uses 2 too)
ORIGIN = 3  # the origin (mirrorlist, check-in) unreachable or refused, and no cache to fall back on
RSYNC = 4  # rsync failed with a code other than 0 and 24
NO_MIRROR = 5  # select / proxy: no candidate mirror serves a current or allowed revision


class ClientError(Exception):
    """An error with a message for the user and the exit code that goes with it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class UsageError(ClientError):
    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE)


class OriginError(ClientError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ORIGIN)
