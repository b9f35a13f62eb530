"""Jinja2 templates from the top-level ``templates/`` folder, found the same way installed or not.

A wheel carries the folder as ``maestro_cli/templates`` (pyproject's ``packages ... to``); a
checkout or editable install finds it at the repository's top level.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    import jinja2


def templates_dir() -> Path:
    package = Path(__file__).resolve().parent
    for candidate in (package / "templates", package.parent.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("maestro's templates folder is missing from this installation")


def environment(*extra_dirs: Path, autoescape: bool = False) -> jinja2.Environment:
    """An environment that looks in ``extra_dirs`` first (a user's ``--template DIR``), then ours."""
    import jinja2

    loader = jinja2.FileSystemLoader([str(d) for d in extra_dirs] + [str(templates_dir())])
    return jinja2.Environment(
        loader=loader,
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, *extra_dirs: Path, autoescape: bool = False, **context: Any) -> str:
    import jinja2

    try:
        return environment(*extra_dirs, autoescape=autoescape).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(f"template error: {exc.message}", location=None, hint=f"{exc.filename}:{exc.lineno}") from None
    except jinja2.UndefinedError as exc:
        raise InputError(f"template {name}: {exc.message}") from None
