"""What can go wrong for a user, as exceptions the command line turns into exit codes.

The core raises them with a message already in the reader's language; the app's one
handler (cmx.cli) prints the message on stderr as one line and exits with `code`. A
traceback therefore always means a bug.
"""

EXIT_OK, EXIT_NO_MATCH, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class CmxError(Exception):
    """A failure the user can fix; str(err) is shown as is after "cmx: error: "."""

    code = EXIT_USAGE
    prefix = True  # shown as "cmx: error: …"; False: the message stands alone


class UsageError(CmxError):
    """A bad option value, argument, environment variable or format: exit 2."""


class NothingMatched(CmxError):
    """Nothing to show (no entry, no hit, no confident hit): exit 1, like grep."""

    code = EXIT_NO_MATCH
    prefix = False
