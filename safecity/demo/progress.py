"""The demo's start-up on screen: each step with a spinner while it runs, then a line saying
what it did and how long it took."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console


@dataclass
class Step:
    done: str
    """The line printed when the step ends; the step rewrites it to say what it did."""


class StartUp:
    """Prints each start-up step with the time it took; ``elapsed`` counts from its making."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.perf_counter()

    @contextmanager
    def step(self, doing: str) -> Iterator[Step]:
        began = time.perf_counter()
        step = Step(doing)
        with self.console.status(doing):
            yield step
        took = time.perf_counter() - began
        self.console.print(f"[green]✓[/green] {step.done} [dim]({took:.1f} s)[/dim]")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started
