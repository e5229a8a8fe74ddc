"""The ``skillinfer-bayes`` process around a command: its exit status, its errors and warnings as
one line each (``skillinfer-bayes: error: ...``), and the library's log messages on stderr.

Examples
--------
>>> exit_code(None), exit_code(2)
(0, 2)
"""

from __future__ import annotations

import logging
import sys

from skillinfer_bayes.cli_options import EXIT_FAILURE, CLIError


def exit_code(code: object) -> int:
    """The status :class:`SystemExit` gives its code, as Python's own exit would."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return EXIT_FAILURE


def exit_status(exc: BaseException) -> int | None:
    """Exit status of an error the command reports in one line; None for anything else."""
    if isinstance(exc, CLIError):
        return exc.status
    if isinstance(exc, OSError):  # a file that cannot be read or written
        return EXIT_FAILURE
    if isinstance(exc, (ValueError, TypeError, KeyError, ImportError)):
        # the package's own checks: the innermost frame is one of its modules
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        module = "" if tb is None else tb.tb_frame.f_globals.get("__name__", "")
        if module.split(".")[0] == "skillinfer_bayes":
            return EXIT_FAILURE
    return None


def configure_logging(quiet: bool) -> None:
    """The library's log messages (e.g. a fit loaded from the cache) on stderr."""
    logger = logging.getLogger("skillinfer_bayes")
    if not any(getattr(h, "_skillinfer_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("skillinfer-bayes: %(message)s"))
        handler._skillinfer_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as the command's own lines (what to do), without Python's source line."""
    text = str(message).strip()
    print(f"skillinfer-bayes: warning: {text}", file=sys.stderr if file is None else file)
