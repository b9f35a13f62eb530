"""What one invocation knows before any command runs: output settings, and configuration on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .console import Console

if TYPE_CHECKING:
    import typer

    from .config import Settings


# only __init__ generated: the rest would be compiled at every start for nothing (see errors.Location)
@dataclass(repr=False, eq=False)
class State:
    """What one invocation carries from the root options to the command."""

    console: Console = field(default_factory=Console)
    debug: bool = False
    command: str | None = None
    argv: list[str] = field(default_factory=list)
    _settings: Settings | None = field(default=None, init=False, repr=False)

    def settings(self, **flags: Any) -> Settings:
        """Configuration with this command's flags on top; files and environment are read once."""
        if self._settings is None:
            from .config import load_settings

            self._settings = load_settings()
        return self._settings.with_flags(flags)

    def for_command(self, json_output: bool) -> Console:
        """The console, switched to JSON mode when the command's own ``--json`` was given."""
        if json_output:
            self.console.json_mode = True
        return self.console

    def audit_path(self) -> Path | None:
        settings = self.settings()
        return settings.audit_path if settings["audit"] else None


def get_state(ctx: typer.Context) -> State:
    state = ctx.find_root().obj
    if not isinstance(state, State):  # a command invoked without going through cli.main
        state = State()
        ctx.find_root().obj = state
    return state
