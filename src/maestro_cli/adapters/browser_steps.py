"""What the playwright and selenium adapters share: options, validation, runs and evidence.

A step's target is pytest files (``paths``), run with maestro's browser pytest plugin and read back
from JUnit XML by the pytest adapter's :func:`~maestro_cli.adapters.pytest.run_pytest`, or a plain
script (``script``), run by :mod:`~maestro_cli.adapters.browser_script` as one test case. Either
way, the files kept of failures are listed in a manifest that :func:`attach_recorded` turns into
attachments of their test case.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from .base import Attachment, StepContext, StepResult, StepSpec, TestCase
from .browser import (
    SCREENSHOT_MODES,
    SCRIPT_ERROR,
    BrowserSetup,
    junit_names,
    recorded,
    resolve_driver,
    resolve_executable,
)
from .shell import run_command

PYTEST_PLUGIN = "maestro_cli.adapters.browser_pytest_plugin"
SCRIPT_RUNNER = "maestro_cli.adapters.browser_script"
EXTRA = "browser"
INSTALL_EXTRA = f"pip install 'maestro-cli[{EXTRA}]'"

# `with:` options both browser adapters take; each adds its own (browser, trace, driver)
COMMON_OPTIONS: dict[str, Any] = {
    "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "pytest test files or folders"},
    "script": {"type": "string", "description": "a plain Python script, instead of `paths`"},
    "args": {"type": "array", "items": {"type": "string"}, "description": "more arguments for pytest (or the script)"},
    "headed": {"type": "boolean", "description": "show the browser window (default: headless)"},
    "base_url": {"type": "string", "description": "the `base_url` fixture; $MAESTRO_BASE_URL for a script"},
    "executable": {"type": "string", "description": "Chromium to launch (default: MAESTRO_CHROMIUM, /usr/bin/chromium)"},
    "screenshots": {"enum": list(SCREENSHOT_MODES), "description": "PNG screenshots (default on-failure)"},
    "timeout": {"type": "number", "exclusiveMinimum": 0, "description": "seconds each browser action may wait"},
}

_CONTENT_TYPES = {"screenshot": "image/png", "trace": "application/zip", "video": "video/webm"}


def missing_path_problem(what: str, path: Path | None) -> str | None:
    """One line when a configured executable is absent, so the step fails before a browser starts."""
    if path is not None and not path.is_file():
        return f"{what} {path} does not exist"
    return None


def missing_extra(modules: tuple[str, ...], adapter: str) -> str | None:
    """The one line a plan gets when the ``browser`` extra is not installed, naming the extra."""
    absent = [name for name in modules if importlib.util.find_spec(name) is None]
    if not absent:
        return None
    return (
        f"adapter '{adapter}' needs {' and '.join(absent)}, not installed here: "
        f"install maestro's '{EXTRA}' extra ({INSTALL_EXTRA})"
    )


def check_browser_step(step: StepSpec, modules: tuple[str, ...]) -> list[str]:
    """The problems both adapters find before anything runs: a missing extra first, alone."""
    extra = missing_extra(modules, step.adapter)
    if extra:
        return [extra]
    problems = []
    if step.run is not None:
        problems.append(f"the {step.adapter} adapter takes `with:` options, not `run:`")
    if ("script" in step.options) == ("paths" in step.options):
        problems.append(f"the {step.adapter} adapter needs exactly one of `script` or `paths`")
    for option in ("executable", "driver"):
        value = step.options.get(option)
        # a value still holding a ${{ }} template is known only when the step runs
        missing = missing_path_problem(option, Path(value)) if isinstance(value, str) and value else None
        if missing:
            problems.append(missing)
    return problems


def step_setup(step: StepSpec, context: StepContext) -> BrowserSetup:
    options = step.options
    return BrowserSetup(
        executable=resolve_executable(options.get("executable"), context.settings),
        driver=resolve_driver(options.get("driver"), context.settings),
        headed=bool(options.get("headed", False)),
        timeout=options.get("timeout"),
    )


def evidence_folder(context: StepContext) -> Path:
    """Where one attempt's screenshots and traces go: an attempt never overwrites an earlier one's."""
    return context.attachments_dir / f"attempt-{context.attempt}"


def setup_args(step: StepSpec, setup: BrowserSetup, folder: Path) -> list[str]:
    """This step's setup as the ``--maestro-*`` options the pytest plugin and the script runner take."""
    options = step.options
    args = [f"--maestro-artifacts={folder}", f"--maestro-screenshots={options.get('screenshots', 'on-failure')}"]
    if setup.executable is not None:
        args.append(f"--maestro-chromium={setup.executable}")
    if setup.driver is not None:
        args.append(f"--maestro-chromedriver={setup.driver}")
    if setup.headed:
        args.append("--maestro-headed")
    if setup.timeout is not None:
        args.append(f"--maestro-timeout={setup.timeout}")
    if options.get("base_url"):
        args.append(f"--maestro-base-url={options['base_url']}")
    return args


def pytest_plugin_args(step: StepSpec, setup: BrowserSetup, folder: Path) -> list[str]:
    """pytest arguments that load maestro's browser plugin with this step's setup."""
    return ["-p", PYTEST_PLUGIN, *setup_args(step, setup, folder)]


def run_script(
    step: StepSpec, context: StepContext, setup: BrowserSetup, folder: Path, runner_args: list[str]
) -> StepResult:
    """Run the step's ``script`` through the script runner; the result holds it as one test case."""
    script = step.options["script"]
    argv = [
        sys.executable, "-m", SCRIPT_RUNNER, *setup_args(step, setup, folder), *runner_args,
        "--", script, *step.options.get("args", []),
    ]
    result = run_command(argv, step, context)
    classname, name = junit_names(script)  # the names the runner's manifest uses for it
    case = TestCase(name=name, classname=classname, time=result.duration)
    if result.outcome != "passed":
        case.outcome = "failed"
        case.message = result.message
        error = folder / SCRIPT_ERROR
        if error.is_file():
            summary, _, details = error.read_text(encoding="utf-8").partition("\n")
            case.message, case.details = summary, details.strip() or None
            result.message = f"{script}: {summary}"
    result.cases = [case]
    return result


def attach_recorded(result: StepResult, folder: Path, results_dir: Path) -> None:
    """Attach every file listed in ``folder``'s manifest to its test case (else to the step)."""
    cases = {(case.classname, case.name): case for case in result.cases}
    results_dir = results_dir.resolve()  # the manifest's paths are absolute
    for entry in recorded(folder):
        path = Path(entry["path"])
        attachment = Attachment(
            path=path.relative_to(results_dir).as_posix() if path.is_relative_to(results_dir) else str(path),
            kind=entry["kind"],
            content_type=_CONTENT_TYPES.get(entry["kind"]),
            description=f"{entry['kind']} of {entry['nodeid']}",
        )
        case = cases.get((entry["classname"], entry["name"]))
        (case.attachments if case is not None else result.attachments).append(attachment)
