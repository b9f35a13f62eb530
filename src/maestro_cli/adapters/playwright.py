"""The ``playwright`` adapter: a user's Playwright tests against Chromium, with failure evidence.

The target is either pytest files using pytest-playwright (``paths``), run like the pytest adapter
runs tests, every case read from JUnit XML; or a plain ``playwright.sync_api`` script (``script``),
run by :mod:`~maestro_cli.adapters.browser_script` and reported as one case. Either way screenshots
and traces of failures land in the run's results folder, attached to their test case.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from .base import StepContext, StepResult, StepSpec, TestCase
from .browser import (
    BrowserSetup,
    COMMON_OPTIONS,
    SCRIPT_ERROR,
    TRACE_MODES,
    attach_recorded,
    check_browser_step,
    evidence_folder,
    junit_names,
    missing_path_problem,
    pytest_plugin_args,
    setup_args,
    step_setup,
)
from .pytest import run_pytest
from .shell import run_command

# pytest-playwright's names for the same choices
_SCREENSHOT_FLAGS = {"on-failure": "only-on-failure", "always": "on", "never": "off"}
_TRACE_FLAGS = {"on-failure": "retain-on-failure", "never": "off"}


class PlaywrightAdapter:
    name = "playwright"
    description = "Run Playwright tests (pytest-playwright files or a sync_api script) on Chromium."
    options_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            **COMMON_OPTIONS,
            "script": {"type": "string", "description": "a plain Python script using playwright.sync_api"},
            "browser": {"enum": ["chromium", "firefox", "webkit"], "description": "default chromium"},
            "trace": {"enum": list(TRACE_MODES), "description": "Playwright trace of a failed test"},
        },
        "additionalProperties": False,
    }

    def check(self, step: StepSpec) -> list[str]:
        options = step.options
        modules = ("playwright",) if "script" in options else ("playwright", "pytest_playwright")
        problems = check_browser_step(step, modules)
        if ("script" in options) == ("paths" in options):
            problems.append("the playwright adapter needs exactly one of `script` or `paths`")
        if options.get("executable") and options.get("browser", "chromium") != "chromium":
            problems.append("`executable` applies to chromium only")
        if "script" in options and "browser" in options:
            problems.append("`browser` applies to `paths`: a script launches the browser it chooses")
        return problems

    def run(self, step: StepSpec, context: StepContext) -> StepResult:
        options = step.options
        setup = replace(step_setup(step, context), driver=None)  # Playwright drives Chromium without one
        browser = options.get("browser", "chromium")
        if browser == "chromium":
            missing = missing_path_problem("Chromium", setup.executable)
            if missing:
                return StepResult("failed", message=missing)
        folder = evidence_folder(context)
        if "script" in options:
            result = self._run_script(step, context, setup, folder)
        else:
            args = [
                *pytest_plugin_args(step, setup, folder),
                f"--browser={browser}",
                f"--screenshot={_SCREENSHOT_FLAGS[options.get('screenshots', 'on-failure')]}",
                f"--tracing={_TRACE_FLAGS[options.get('trace', 'on-failure')]}",
                f"--output={folder / 'playwright'}",
                *options.get("args", []),
                *options["paths"],
            ]
            result = run_pytest(sys.executable, args, step, context)
        attach_recorded(result, folder, context.results_dir)
        return result

    def _run_script(self, step: StepSpec, context: StepContext, setup: BrowserSetup, folder: Path) -> StepResult:
        options = step.options
        argv = [
            sys.executable, "-m", "maestro_cli.adapters.browser_script",
            *setup_args(step, setup, folder),
            f"--maestro-trace={options.get('trace', 'on-failure')}",
            "--", options["script"], *options.get("args", []),
        ]
        result = run_command(argv, step, context)
        result.cases = [_script_case(options["script"], result, folder)]
        return result


def _script_case(script: str, result: StepResult, folder: Path) -> TestCase:
    """The one test case a script is: the names the script runner's manifest uses for it."""
    classname, name = junit_names(script)
    case = TestCase(name=name, classname=classname, time=result.duration)
    if result.outcome == "passed":
        return case
    case.outcome = "failed"
    error = folder / SCRIPT_ERROR
    if error.is_file():
        summary, _, details = error.read_text(encoding="utf-8").partition("\n")
        case.message, case.details = summary, details.strip() or None
        result.message = f"{script}: {summary}"
    else:
        case.message = result.message
    return case
