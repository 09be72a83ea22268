"""What can go wrong for a user, as exceptions the command line turns into exit codes.

The core raises them with a message already in the reader's language; the app's one
handler (cmx.cli) prints the message on stderr as one line and exits with `code`. A
traceback therefore always means a bug.
"""

from collections.abc import Iterable

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


class KBError(Exception):
    """The knowledge base can't be used; str(err) is shown to the user as-is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `word`, if one is close enough to be a likely typo."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:  # case and accents aside: "Securite" ~ "Sécurité"
        lowered = {c.lower(): c for c in choices}
        close = [
            lowered[c] for c in difflib.get_close_matches(word.lower(), lowered, n=1, cutoff=0.6)
        ]
    return close[0] if close else None


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a choice is close to `word`, else ''."""
    close = closest(word, list(choices))
    return f" (did you mean '{close}'?)" if close else ""
