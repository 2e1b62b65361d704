"""What every job request shares (see :mod:`core.requests`): the model choice, the JSON round trip,
and turning a request into the one :class:`core.jobs.Job` the CLI and the window execute."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from core.errors import B4GError
from core.jobs import Job
from core.models.choice import ModelChoice


def need_fields(data: dict[str, Any], kind: str, *keys: str) -> None:
    missing = [k for k in keys if data.get(k) in (None, "")]
    if missing:
        raise B4GError(f"{kind} request: missing {', '.join(repr(k) for k in missing)}")


def readable_dataset(path: str | Path) -> str:
    """The dataset's absolute path, after checking it reads (one-line error otherwise)."""
    from core.spec.rows import load_rows

    load_rows(Path(path))
    return str(Path(path).resolve())


@dataclass
class JobRequest:
    """What every request shares: the kind, the recipe that runs it, whether it trains."""

    KIND: ClassVar[str] = ""
    RECIPE: ClassVar[str] = ""
    TRAINS: ClassVar[bool] = False  # trains or loads big: runs in a child process from the window
    SCALES_OUT: ClassVar[bool] = False  # trains data parallel over several processes (core.distributed)

    model: ModelChoice

    @property
    def seed(self) -> int | None:
        return None

    def fields_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {**self.model.to_json(), **self.fields_json()}

    def recipe(self) -> Any:
        from core.child import Recipe

        return Recipe(self.RECIPE, self.to_json())

    def job(self, in_child: bool | None = None) -> Job:
        """The job to execute; ``in_child`` (default: whether it trains) runs it in a spawned process,
        with as many data-parallel processes as the context asks for if the job scales out."""
        recipe = self.recipe()
        child = self.TRAINS if in_child is None else in_child
        if child:
            from core.child import run_in_child

            scales = self.SCALES_OUT
            return Job(self.KIND, lambda ctx: run_in_child(recipe, ctx, ctx.processes if scales else 1),
                       recipe.config, seed=self.seed)
        return Job(self.KIND, recipe.run, recipe.config, seed=self.seed)
