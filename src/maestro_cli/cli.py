"""The maestro command line: global options, command registration, and the one error boundary.

The typer app is built on first use, not at import: ``maestro --version`` answers without importing
typer at all, and ``maestro --help`` imports only the thin command modules, never a core.
"""

# No `from __future__ import annotations` here: typer reads the root callback's annotations at run
# time, and they name `typer`, which is imported inside build_app only.
import atexit
import gc
import os
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    import typer

    from .context import State

HELP = (
    "Carve reusable packages out of legacy Python repos, publish them, "
    "run test plans and report on the results.\n\n"
    "Example: maestro extract legacy/src/resilience --name acme-resilience --verify"
)


# -- registration: every command, in one visible list (hatch's cli/__init__.py) ----------------------
# name on the command line: "module:attribute" in maestro_cli.commands, a command function or a typer
# sub-app; in the order of the journey: find, carve, build, publish, test, report
COMMANDS: dict[str, str] = {
    "scan": "scan:scan",
    "extract": "extract:extract",
    "build": "build:build",
    "publish": "publish:publish",
    "run-plan": "run_plan:run_plan",
    "worker": "worker:worker",
    "adapters": "adapters:adapters",
    "report": "report:report",
    "config": "config:app",
    "audit": "audit:app",
}
_COMPLETION_VARIABLE = "_MAESTRO_COMPLETE"  # typer's shell completion asks for every command name


@cache
def build_app(only: str | None = None) -> "typer.Typer":
    """The typer app with every command, or with ``only`` that one (see :func:`invoked_command`)."""
    from typing import Annotated

    import typer

    app = typer.Typer(
        name="maestro",
        help=HELP,
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        pretty_exceptions_enable=False,
    )

    def show_version(value: bool) -> None:
        if value:
            sys.stdout.write(f"maestro {__version__}\n")
            raise typer.Exit(0)

    @app.callback()
    def root(
        ctx: typer.Context,
        json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")] = False,
        quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only errors on stderr.")] = False,
        verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More detail on stderr.")] = 0,
        no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also: NO_COLOR).")] = False,
        debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (also: MAESTRO_DEBUG=1).")] = False,
        version: Annotated[
            bool, typer.Option("--version", callback=show_version, is_eager=True, help="Show the version and exit.")
        ] = False,
    ) -> None:
        state: State = ctx.obj
        state.console.quiet = quiet
        state.console.verbose = verbose
        state.console.json_mode = json_output
        if no_color:
            state.console.color = False
        state.debug = state.debug or debug
        state.command = ctx.invoked_subcommand

    for name, target in COMMANDS.items():
        if only is not None and name != only:
            continue
        module, attribute = target.split(":")
        # __import__, not importlib.import_module: only the former shows in `python -X importtime`,
        # which the start-up tests read to keep heavy libraries out of every command's start
        registered = getattr(__import__(f"{__package__}.commands.{module}", fromlist=[attribute]), attribute)
        if isinstance(registered, typer.Typer):
            app.add_typer(registered, name=name)
        else:
            app.command(name)(registered)
    return app


def invoked_command(args: list[str]) -> str | None:
    """The command ``args`` run, when the app needs no other: a start builds one command, not ten.

    The root's options take no values, so the first word that is not an option names the command.
    None (every command) for the root's help, a mistyped name (click's "did you mean" needs the
    others) and shell completion.
    """
    if _COMPLETION_VARIABLE in os.environ:
        return None
    for arg in args:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def __getattr__(name: str) -> Any:
    """``maestro_cli.cli.app`` for tools that expect a module-level typer app (docs, completion)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def _attach_audit(state: "State") -> None:
    """Record core events in the audit log, resolving its path only when the first event comes."""
    from . import events

    def listener(event: events.Event) -> None:
        path = state.audit_path()
        if path is None:
            return
        from .audit import AuditLog, user_audit_path

        if any(path.resolve().is_relative_to(folder.resolve()) for folder in event.read_only):
            # e.g. `maestro extract` run from inside the legacy repo: that repo is never written to
            path = user_audit_path()
        AuditLog(path, state.command or "", state.argv)(event)

    events.subscribe(listener)


# A start (typer, the command and its core, a plan of 500 steps) allocates a few hundred thousand
# objects that live as long as the process; at Python's default pace (a collection every 700
# allocations) the cyclic GC spent 20-40 ms tracing them. A collection every 100k, as mypy does.
# This module imports the rest of maestro only inside main, under these thresholds: its own
# imports (dataclasses, pathlib, traceback) cost a dozen collections (3 ms) when done at its top.
_GC_THRESHOLDS = (100_000, 20, 20)


def main(argv: list[str] | None = None) -> int:
    """Run maestro; every expected failure becomes one line and an exit code here, and only here."""
    if argv is None:  # the console script: registered before anything else, so it runs last
        atexit.register(_leave_before_teardown)
    thresholds = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        code = _run(list(sys.argv[1:] if argv is None else argv))
    finally:
        # as they were, for whoever called main in-process; the console script leaves with them
        # raised, or its exit would pay one last collection of everything the start allocated
        if argv is not None:
            gc.set_threshold(*thresholds)
    return _exit(argv, code)


def _run(args: list[str]) -> int:
    from . import redaction
    from .errors import ExitCode, MaestroError

    redaction.register_argv(args)
    redaction.register_from_environment()
    if args == ["--version"]:  # the fast path: no typer import for the commonest probe
        sys.stdout.write(f"maestro {__version__}\n")
        return ExitCode.OK
    import traceback

    import typer

    from .context import State

    state = State(debug=os.environ.get("MAESTRO_DEBUG", "") not in ("", "0"), argv=args)
    _attach_audit(state)
    try:
        result = build_app(invoked_command(args))(args=args, prog_name="maestro", standalone_mode=False, obj=state)
        code = int(result) if isinstance(result, int) else ExitCode.OK
    except typer.Exit as exc:  # typer turns Ctrl-C into Exit(130) itself
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        state.console.error("interrupted")
        code = ExitCode.INTERRUPTED
    except typer.TyperException as exc:  # typer's usage errors: unknown option, missing argument
        context = getattr(exc, "ctx", None)
        where = f"{context.command_path}: " if context is not None else ""
        state.console.error(f"{where}{exc.format_message()}", hint="add --help for usage")
        code = ExitCode.BAD_INPUT
    except MaestroError as exc:
        if state.debug:
            traceback.print_exc()
        state.console.error(str(exc), exc.hint)
        code = exc.exit_code
    except Exception:  # the boundary: anything else is a bug, reported without a traceback
        if state.debug:
            traceback.print_exc()
        log = _write_crash_log(args)
        state.console.error("unexpected error, rerun with --debug", hint=f"details in {log}")
        code = ExitCode.INTERNAL
    return code


# The exit code of a console-script run, once main has decided it (see _leave_before_teardown).
_decided_exit_code: int | None = None


def _exit(argv: list[str] | None, code: int) -> int:
    """Exit the process when run as the console script; return the code when called in-process."""
    global _decided_exit_code
    if argv is None:
        _decided_exit_code = code
        sys.exit(code)
    return code


def _leave_before_teardown() -> None:
    """The last atexit handler: once every other one ran, end the process without the interpreter's
    teardown, which frees every object one by one (30-40 ms after a 500-step run) only to give
    back memory the OS takes back anyway. Output is flushed first; maestro closes its own files
    with ``with`` blocks, so no finaliser has anything left to write. (Instagram's web servers
    leave the same way; see "Dismissing Python Garbage Collection at Instagram".)
    """
    if _decided_exit_code is None:  # main never got to decide: let Python report what happened
        return
    from .errors import ExitCode

    code = _decided_exit_code
    for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr)):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away (maestro ... | head), or closed
            pass
        except OSError as exc:  # the output is lost (a full disk): never a 0 as if it were written
            code = ExitCode.OUTPUT_LOST
            try:
                os.write(2, f"error: cannot write {name}: {exc.strerror or exc}\n".encode())
            except OSError:
                pass
    os._exit(code)


def _write_crash_log(args: list[str]) -> str:
    import tempfile
    import traceback

    from . import redaction

    fd, path = tempfile.mkstemp(prefix="maestro-crash-", suffix=".log")
    with os.fdopen(fd, "w") as stream:
        stream.write(f"maestro {__version__} {' '.join(redaction.scrub_argv(args))}\n")
        stream.write(redaction.scrub(traceback.format_exc()))
    return path
