"""The registry of supervised tasks: what each predicts, how it is trained, judged, scored and
worded (`custlens.models.tasks.base.Task`). Adding a task is a module beside these and a line
here; training, evaluation, scoring, the report, tuning and the monitor iterate over TASKS.
"""

from __future__ import annotations

from custlens.errors import CustlensError
from custlens.models.estimators.training import ModelSettings
from custlens.models.tasks.base import Output, Scored, Task
from custlens.models.tasks.churn import Churn
from custlens.models.tasks.clv import Value
from custlens.models.tasks.repurchase import Repurchase
from custlens.models.tasks.timing import Timing

# In scoring order: a task reads the columns of those before it (the value interval reads the
# churn probability; the timing curve passes through the churn and repurchase probabilities).
TASKS: dict[str, Task] = {t.name: t for t in (Churn(), Repurchase(), Value(), Timing())}
SUPERVISED = tuple(TASKS)
EXPLAINED = tuple(name for name, t in TASKS.items() if t.explained)  # by SHAP


def task(name: str) -> Task:
    """The registered task called `name`, or one error naming the known ones."""
    if name not in TASKS:
        raise CustlensError(f"task must be one of {', '.join(TASKS)}, not {name!r}")
    return TASKS[name]


def default_settings() -> dict[str, ModelSettings]:
    """Every supervised task's default model settings."""
    return {name: t.defaults() for name, t in TASKS.items()}


__all__ = [
    "EXPLAINED",
    "SUPERVISED",
    "TASKS",
    "Output",
    "Scored",
    "Task",
    "default_settings",
    "task",
]
