"""Process life: the console script's `main()`, streams, signals and exit codes.

Everything that is about the process rather than the command line lives here: a closed
stderr, a terminal that cannot encode a character (the nearest ASCII instead of an
error), SIGTERM and Ctrl-C, a closed pipe, a full disk, and the exit itself. A user's
error never shows a traceback (cmx.cli turns it into one line and an exit code); an
unexpected exception says it is a bug, exit 3, with the traceback under --debug.
"""

import _signal  # type: ignore[import-not-found]  # C module under `signal` (no enums: ~4 ms)
import contextlib
import errno
import gc
import io
import os
import sys
from typing import NoReturn

from cmx.errors import EXIT_BUG, EXIT_OK, EXIT_USAGE

# Until the command runs, Ctrl-C ends the process as the signal does (status 130, no
# traceback from inside an import); main() hands it back to Python just before.
_signal.signal(_signal.SIGINT, _signal.SIG_DFL)

# Errors of a stream that cannot take more output (a full disk, a closed descriptor…).
OUTPUT_ERRNOS = frozenset({5, 9, 27, 28, 122})  # EIO, EBADF, EFBIG, ENOSPC, EDQUOT


class Terminated(BaseException):
    """SIGTERM, raised so that every `finally` runs: no temporary file is left behind."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def _(message: str) -> str:
    """A process message in the language of the environment (CMX_LANG, the locale)."""
    from cmx.i18n import language_from_locale, translator

    lang = os.environ.get("CMX_LANG", "").strip().lower() or language_from_locale() or "en"
    return translator(lang).gettext(message)


def err(line: str) -> None:
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(line + "\n")


def main() -> None:
    """Console-script entry: run the app; no traceback for a closed pipe or a bug."""
    # A run is short and builds many acyclic objects (tuples, strings): the cyclic
    # garbage collector would only cost time, most of all on a first, uncached load.
    gc.disable()
    if hasattr(_signal, "SIGTERM"):
        _signal.signal(_signal.SIGTERM, _on_sigterm)
    _prepare_streams()
    try:
        _run()
    except KeyboardInterrupt:  # Ctrl-C, even during the imports of start-up
        err(_("cmx: interrupted"))
        _exit_now(130)
    except Terminated:
        _exit_now(128 + 15)


def _run() -> None:
    if len(sys.argv) == 1:  # plain `cmx`: the help, on stdout, exit 0 (so `cmx | less` works)
        sys.argv.append("--help")
    source = os.environ.get("_CMX_COMPLETE", "")
    if source.endswith("_source"):  # Click's convention (`_CMX_COMPLETE=bash_source cmx`)
        from typer._completion_shared import get_completion_script

        shell = source.removesuffix("_source")
        sys.stdout.write(
            get_completion_script(prog_name="cmx", complete_var="_CMX_COMPLETE", shell=shell)
        )
        _exit_now(EXIT_OK)
    if source:  # a shell asking for completions: Typer's shell classes, only then
        from typer._completion_classes import completion_init

        completion_init()
    if sys.stdout is None:  # started with stdout closed (>&-): fine until written to
        sys.stdout = _Closed()
    try:
        from cmx.cli import app

        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        app()
    except SystemExit as done:
        _exit_now(done.code)
    except BrokenPipeError:
        _silence_stdout()
        _exit_now(EXIT_OK)
    except OSError as error:
        if error.errno not in OUTPUT_ERRNOS:
            _internal_error(error)
        _output_failed(error)
    except (KeyboardInterrupt, Terminated):
        raise
    except Exception as error:
        _internal_error(error)
    _exit_now(EXIT_OK)


class _Closed(io.TextIOBase):
    """Standard output that was closed when cmx started: writing to it is an error
    (exit 2, said on stderr); a command that writes only to a file (-o) is unaffected."""

    def write(self, text: str) -> int:
        raise OSError(
            errno.EBADF, _("standard output is closed; give cmx somewhere to write (>file, | less)")
        )

    def flush(self) -> None:
        pass


def _debugging() -> bool:
    value = os.environ.get("CMX_DEBUG", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _internal_error(error: BaseException) -> NoReturn:
    if _debugging():
        raise error
    err(_("cmx: internal error: {error}").format(error=f"{type(error).__name__}: {error}"))
    err(_("cmx: this is a bug; run again with --debug for the traceback and report it"))
    _exit_now(EXIT_BUG)


def _output_failed(error: OSError) -> NoReturn:
    _silence_stdout()
    err(_("cmx: error: cannot write the output: {reason}").format(reason=error.strerror or error))
    _exit_now(EXIT_USAGE)


def _prepare_streams() -> None:
    """Streams that never turn a successful run into a failure.

    A closed stderr (2>&-) becomes /dev/null; a terminal or pipe whose encoding cannot
    show a character (PYTHONIOENCODING=ascii, LC_ALL=C) gets the nearest ASCII ("…" ->
    "...", "é" -> "e") rather than an error."""
    import codecs

    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    try:
        codecs.lookup_error("cmx-ascii")
    except LookupError:
        codecs.register_error("cmx-ascii", _nearest_ascii)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = getattr(stream, "encoding", None) or "utf-8"
        if reconfigure is not None and codecs.lookup(encoding).name != "utf-8":
            reconfigure(errors="cmx-ascii")


ASCII_NEAR = {
    **dict.fromkeys("—–·", "-"),
    **dict.fromkeys("’‘", "'"),
    **dict.fromkeys("“”«»", '"'),
    "…": "...",
    "█": "#",
    "§": "S.",
    "€": "EUR",
    "†": "+",
    "‡": "++",
    "→": "->",
    "←": "<-",
    "\u00a0": " ",
}


def _nearest_ascii(error: UnicodeError) -> tuple[str, int]:
    """An encoding error handler: the closest ASCII for what the stream cannot encode."""
    import unicodedata

    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for ch in error.object[error.start : error.end]:
        near = ASCII_NEAR.get(ch)
        if near is None:
            decomposed = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            near = decomposed or "?"
        out.append(near)
    return "".join(out), error.end


def _exit_now(code: object) -> NoReturn:
    """Flush what was written, then end the process without the interpreter's teardown.

    Unloading every module of Typer, Click and Rich takes longer than a cached
    `cmx pillars` itself (bench/startup.py). cmx registers no exit handlers and
    writes files atomically, so there is nothing left to do at exit but flush. Output
    that cannot be written (a full disk) is an error, exit 2; a closed pipe is not.
    """
    if code is None:
        status = EXIT_OK
    elif isinstance(code, int):
        status = code
    else:
        err(str(code))
        status = EXIT_USAGE
    if sys.stdout is not None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
        except OSError as error:
            _silence_stdout()
            err(
                _("cmx: error: cannot write the output: {reason}").format(
                    reason=error.strerror or error
                )
            )
            status = status or EXIT_USAGE
        except ValueError:
            pass
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
    os._exit(status)


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
