"""Errors a user can act on: each names the file, the line and what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Problem:
    """One thing wrong with the input, with a stable code and a fix hint."""

    code: str
    message: str
    path: Path | None = None
    line: int | None = None
    hint: str | None = None
    column: int | None = None

    def location(self) -> str:
        """path:line:column, as far as it is known."""
        if self.path is None:
            return ""
        parts = [str(self.path)] + [str(n) for n in (self.line, self.column) if n is not None]
        if self.line is None:
            parts = parts[:1]
        return ":".join(parts)

    def __str__(self) -> str:
        """One line: `path:line:column: CODE what is wrong — how to fix it`."""
        text = f"{self.code} {self.message}"
        if self.location():
            text = f"{self.location()}: {text}"
        if self.hint:
            text += f" — {self.hint}"
        return text


class GuideError(Exception):
    """Raised for a user's mistake; carries one or more problems.

    The command line prints each problem and exits non-zero, without a traceback.
    """

    def __init__(self, problems: Problem | list[Problem]):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):
        # Rebuilt from its problems when it crosses from a worker process.
        return (GuideError, (self.problems,))

    @classmethod
    def one(cls, code: str, message: str, path: Path | None = None,
            line: int | None = None, hint: str | None = None) -> "GuideError":
        return cls(Problem(code, message, path, line, hint))


class Problems:
    """Collects problems so a user sees all of them at once, not one per run."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: str, message: str, path: Path | None = None,
            line: int | None = None, hint: str | None = None, column: int | None = None) -> None:
        self.items.append(Problem(code, message, path, line, hint, column))

    def extend(self, error: GuideError) -> None:
        self.items.extend(error.problems)

    def raise_if_any(self) -> None:
        if self.items:
            raise GuideError(list(self.items))
