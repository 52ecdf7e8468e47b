"""One file's outcome: the typed prediction, or why there is none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmed_client.models import JobResult, PredictResponse, Problem

# What /v1/predict and a job's result return (the same fields; the client has two classes).
Result = PredictResponse | JobResult


@dataclass(frozen=True)
class Outcome:
    path: Path
    result: Result | None = None
    problem: Problem | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def message(self) -> str:
        """Why there is no result (problem details or a transport error)."""
        if self.problem is not None:
            p = self.problem
            return f"{p.status} {p.title}: {p.detail}"
        return self.error or ""
