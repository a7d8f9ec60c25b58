"""User errors end a script with one clear line and exit status 2, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from custlens.errors import CustlensError

F = TypeVar("F", bound=Callable[..., Any])


def exit_on_user_error(task: F) -> F:
    """Wrap a script's task: a `CustlensError` prints `custlens: error: ...` and exits 2."""

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except CustlensError as exc:
            sys.stderr.write(f"custlens: error: {exc}\n")
            raise SystemExit(2) from None

    return wrapper  # type: ignore[return-value]
