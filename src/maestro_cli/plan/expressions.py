"""``${{ ... }}`` templates and ``if:`` conditions, evaluated by jinja2's sandbox.

The delimiters are GitHub Actions' ``${{ }}``, which YAML leaves alone and which no shell script
writes by accident; jinja's block and comment tags are moved to ``${{% %}}`` and ``${{# #}}`` so
that bash's ``${#array[@]}`` stays text. The sandbox keeps a plan from reaching Python internals,
and undefined names are errors, not empty strings.

Values that read ``steps.<id>`` can only be known when that step has run: the loader keeps them as
:class:`Deferred` strings and the scheduler renders them just before the step starts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import did_you_mean

if TYPE_CHECKING:
    import jinja2
    from jinja2 import nodes

TEMPLATE_START = "${{"
# The conditions most steps have; the scheduler evaluates them without jinja.
STATUS_CONDITIONS = ("success()", "failure()", "always()", "cancelled()")


class Deferred(str):
    """A template string that reads ``steps.*``: rendered when the step runs, not when loading."""


class TemplateError(Exception):
    """A template that does not parse or reads something undefined; the message says which."""


@functools.cache
def environment() -> jinja2.Environment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    class Undefined(jinja2.StrictUndefined):
        """Names what is missing and what is there: "no 'sute' (did you mean 'suite'?)"."""

        @property
        def _undefined_message(self) -> str:
            parent, name = self._undefined_obj, self._undefined_name
            if self._undefined_hint or not isinstance(parent, Mapping) or not isinstance(name, str):
                return str(super()._undefined_message)
            return f"no '{name}'{did_you_mean(name, [str(key) for key in parent])}"

    return SandboxedEnvironment(
        variable_start_string="${{",
        variable_end_string="}}",
        block_start_string="${{%",
        block_end_string="%}}",
        comment_start_string="${{#",
        comment_end_string="#}}",
        undefined=Undefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def is_template(value: object) -> bool:
    return isinstance(value, str) and TEMPLATE_START in value


def _parse(text: str) -> nodes.Template:
    import jinja2

    try:
        return environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"bad template: {exc.message}") from None


def step_references(text: str) -> set[str]:
    """The step ids a template reads through ``steps.ID`` or ``steps['ID']``."""
    from jinja2 import nodes

    found: set[str] = set()
    for node in _parse(text).find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node.node, nodes.Name) and node.node.name == "steps":
            if isinstance(node, nodes.Getattr):
                found.add(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                found.add(node.arg.value)
    return found


def reads_steps(text: str) -> bool:
    from jinja2 import meta

    return "steps" in meta.find_undeclared_variables(_parse(text))


def render(text: str, context: Mapping[str, Any]) -> str:
    import jinja2

    try:
        return _template(text).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"bad template: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"undefined in template: {_undefined(exc, context)}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"not allowed in a template: {exc}") from None
    except Exception as exc:  # the expression's own fault (1 / 0, [1] + 'x', a huge range): the plan's, not maestro's
        raise TemplateError(f"cannot evaluate the template: {_failure(exc)}") from None


@functools.lru_cache(maxsize=4096)
def _template(text: str) -> jinja2.Template:
    return environment().from_string(text)


def _undefined(error: jinja2.UndefinedError, context: Mapping[str, Any]) -> str:
    """jinja's message, with a suggestion when a top-level name is mistyped ('var' for 'vars')."""
    message = error.message or "undefined"
    name = message[1:-len("' is undefined")] if message.startswith("'") and message.endswith("' is undefined") else None
    return message + did_you_mean(name, context) if name else message


def _failure(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def render_deferred(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every :class:`Deferred` string in a str/list/dict tree; other values stay as they are."""
    if isinstance(value, Deferred):
        return render(value, context)
    if isinstance(value, list):
        return [render_deferred(item, context) for item in value]
    if isinstance(value, dict):
        return {key: render_deferred(item, context) for key, item in value.items()}
    return value


def has_deferred(value: Any) -> bool:
    if isinstance(value, Deferred):
        return True
    if isinstance(value, list):
        return any(has_deferred(item) for item in value)
    if isinstance(value, dict):
        return any(has_deferred(item) for item in value.values())
    return False


def condition_expression(condition: str | bool) -> str:
    """An ``if:`` as a bare expression: ``${{ failure() }}`` and ``failure()`` mean the same."""
    if isinstance(condition, bool):
        return "true" if condition else "false"
    text = condition.strip()
    if text.startswith(TEMPLATE_START) and text.endswith("}}") and text.count(TEMPLATE_START) == 1:
        text = text[len(TEMPLATE_START) : -2].strip()
    return text


@functools.lru_cache(maxsize=1024)
def compile_condition(expression: str) -> Callable[..., Any]:
    import jinja2

    try:
        return environment().compile_expression(expression, undefined_to_none=False)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"bad expression: {exc.message}") from None


def evaluate(expression: str, context: Mapping[str, Any]) -> bool:
    import jinja2

    try:
        return bool(compile_condition(expression)(**context))
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"undefined in condition: {_undefined(exc, context)}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"not allowed in a condition: {exc}") from None
    except Exception as exc:  # as in render()
        raise TemplateError(f"cannot evaluate the condition: {_failure(exc)}") from None


def condition_references(expression: str) -> set[str]:
    """The step ids an ``if:`` expression reads."""
    if expression in STATUS_CONDITIONS:
        return set()
    return step_references(f"{TEMPLATE_START} {expression} }}}}")
