"""The ``playwright`` adapter: a user's Playwright tests against Chromium, with failure evidence.

The target is either pytest files using pytest-playwright (``paths``), every case read from JUnit
XML; or a plain ``playwright.sync_api`` script (``script``), reported as one case. Either way
screenshots and traces of failures land in the run's results folder, attached to their test case.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from .base import StepContext, StepResult, StepSpec
from .browser import TRACE_MODES
from .browser_steps import (
    COMMON_OPTIONS,
    attach_recorded,
    check_browser_step,
    evidence_folder,
    missing_path_problem,
    pytest_plugin_args,
    run_script,
    step_setup,
)
from .pytest import run_pytest

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
            "browser": {"enum": ["chromium", "firefox", "webkit"], "description": "with `paths`; default chromium"},
            "trace": {"enum": list(TRACE_MODES), "description": "Playwright trace of a failed test"},
        },
        "additionalProperties": False,
    }

    def check(self, step: StepSpec) -> list[str]:
        options = step.options
        modules = ("playwright",) if "script" in options else ("playwright", "pytest_playwright")
        problems = check_browser_step(step, modules)
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
        trace = options.get("trace", "on-failure")
        if "script" in options:
            result = run_script(step, context, setup, folder, ["--maestro-framework=playwright", f"--maestro-trace={trace}"])
        else:
            args = [
                *pytest_plugin_args(step, setup, folder),
                f"--browser={browser}",
                f"--screenshot={_SCREENSHOT_FLAGS[options.get('screenshots', 'on-failure')]}",
                f"--tracing={_TRACE_FLAGS[trace]}",
                f"--output={folder / 'playwright'}",
                *options.get("args", []),
                *options["paths"],
            ]
            result = run_pytest(sys.executable, args, step, context)
        attach_recorded(result, folder, context.results_dir)
        return result
