"""The CLI's job reporter: a rich progress bar and log lines on stderr (stdout stays for results)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RichReporter:
    """Shows ``progress`` as a bar, ``log`` as dim lines, ``report`` as a compact metric line.
    ``quiet`` (``--json``) drops the bar and the metric lines but keeps the log lines: stdout stays
    one JSON document, and a long job still says on stderr which stage it is in."""

    def __init__(self, title: str, quiet: bool = False) -> None:
        self.console = Console(stderr=True)
        self.quiet = quiet
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=self.console, transient=True,
                            disable=quiet or not self.console.is_terminal)
        self.task = self.bar.add_task(title, total=None)

    def __enter__(self) -> "RichReporter":
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def on_report(self, step: int, metrics: dict[str, float]) -> None:
        if not self.quiet:
            shown = "  ".join(f"{k}={v:.4g}" for k, v in list(metrics.items())[:6])
            self.console.print(f"[cyan]step {step}[/]  {shown}", highlight=False)

    def on_progress(self, done: int, total: int | None) -> None:
        self.bar.update(self.task, completed=done, total=total)

    def on_log(self, message: str) -> None:
        self.console.print(f"[dim]{message}[/]", highlight=False)

