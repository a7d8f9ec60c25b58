"""How many threads a run computes with: every core by default, fewer when asked.

User runs take every core of the machine (`threads: null`); `CUSTLENS_THREADS` overrides
that default for a whole process tree, which is how the tests keep each worker to one thread
(LightGBM slows down badly when its threads outnumber free cores).
"""

from __future__ import annotations

import os

from custlens.errors import CustlensError

ENV = "CUSTLENS_THREADS"


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_count(setting: int | None = None) -> int:
    """`setting` when given, else $CUSTLENS_THREADS when set, else every core."""
    value: object = setting if setting is not None else os.environ.get(ENV) or cores()
    try:
        count = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        count = 0
    if count < 1:
        source = "threads" if setting is not None else ENV
        raise CustlensError(f"{source} must be a whole number of at least 1, not {value!r}")
    return count


def use_threads(count: int) -> int:
    """Make the compiled SHAP kernels use `count` threads (LightGBM and DuckDB take theirs per
    call and per connection); returns `count`."""
    import numba

    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    return count
