"""Run a job body and turn whatever it raises into an exit code and one reported error.

Every interface uses this (the CLI's commands, batch workers, the web page's worker), so an
error reads and exits the same everywhere; the table itself is ``errors.as_vax_error``.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from .errors import Interrupted, VaxError, as_vax_error

Report = Callable[[VaxError | Interrupted], None]


def _to_stderr(error: VaxError | Interrupted) -> None:
    sys.stderr.write(f"vax: error: {error.one_line()}\n")
    sys.stderr.flush()


def run_guarded(func: Callable[[], object], *, debug: bool = False, report: Report | None = None,
                passthrough: tuple[type[BaseException], ...] = ()) -> int:
    """Run ``func``; 0 on success, else the error's exit code after ``report(error)``.

    ``passthrough``: exception types the caller handles itself (the CLI lets click's own
    exceptions through). Unfinished temporary outputs are removed whatever happens.
    """
    report = report or _to_stderr
    try:
        func()
        return 0
    except passthrough:
        raise
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        error = as_vax_error(exc)
        if debug and not isinstance(error, Interrupted):
            traceback.print_exc()
        report(error)
        return error.exit_code
    finally:
        if "extractor.publish" in sys.modules:  # otherwise no output was started (`vax probe`)
            from .publish import remove_live_temps

            remove_live_temps()
