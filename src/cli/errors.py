"""How a script ends on an error, and how it shows warnings: one line for the user, never a
bare traceback.

A user error (`CustlensError`: bad input, bad settings, data too short) prints
`custlens: error: ...` and exits 2. Anything else is a defect: it prints one line naming it and
the path of a log holding the traceback, and exits 1. A `CustlensWarning` prints
`custlens: warning: ...` and the work goes on.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from custlens.errors import CustlensError, CustlensWarning

F = TypeVar("F", bound=Callable[..., Any])


def exit_on_user_error(task: F) -> F:
    """Wrap a script's task: user errors exit 2, unexpected ones exit 1 with a logged
    traceback."""

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        show_warnings_plainly()
        try:
            return task(*args, **kwargs)
        except CustlensError as exc:
            sys.stderr.write(f"custlens: error: {exc}\n")
            raise SystemExit(2) from None
        except Exception as exc:  # noqa: BLE001 - every defect ends the same way
            log = write_traceback(exc)
            name = type(exc).__name__
            sys.stderr.write(f"custlens: unexpected error: {name}: {exc} (traceback in {log})\n")
            raise SystemExit(1) from None

    return wrapper  # type: ignore[return-value]


def show_warnings_plainly() -> None:
    """Print custlens's own warnings as one line each, `custlens: warning: ...`."""
    shown = warnings.showwarning

    def show(message: Any, category: type, *args: Any, **kwargs: Any) -> None:
        if issubclass(category, CustlensWarning):
            sys.stderr.write(f"custlens: warning: {message}\n")
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show


def write_traceback(exc: BaseException) -> Path:
    """The traceback of `exc` in a new log file: in the run's Hydra output folder when it has
    one of its own, else in the system's temporary folder."""
    text = "".join(traceback.format_exception(exc))
    folder = _run_folder() or Path(tempfile.gettempdir())
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    handle, name = tempfile.mkstemp(prefix=f"custlens-error-{stamp}-", suffix=".log", dir=folder)
    with open(handle, "w", encoding="utf-8") as log:
        log.write(text)
    return Path(name)


def _run_folder() -> Path | None:
    try:
        from hydra.core.hydra_config import HydraConfig

        folder = Path(HydraConfig.get().runtime.output_dir)
    except (ImportError, ValueError):  # not inside a Hydra run
        return None
    return folder if folder.is_dir() and folder.resolve() != Path.cwd().resolve() else None
