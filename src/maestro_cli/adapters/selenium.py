"""The ``selenium`` adapter: a user's Selenium 4 tests against Chromium and chromedriver.

pytest files (``paths``) take the ``driver`` fixture of maestro's browser pytest plugin (a Chrome
WebDriver on the step's Chromium, headless, with a fresh profile), every case read from JUnit XML;
a plain script (``script``) gets the same Chromium and flags for the ``webdriver.Chrome`` it creates,
and is one case. A failed test's screenshot is attached to its case. Selenium Manager is kept
offline: the driver path is always given, so nothing is ever downloaded.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from .base import StepContext, StepResult, StepSpec
from .browser import offline_selenium_env
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


class SeleniumAdapter:
    name = "selenium"
    description = "Run Selenium tests (pytest files or a script) on Chromium through chromedriver."
    options_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            **COMMON_OPTIONS,
            "driver": {"type": "string", "description": "chromedriver (default: MAESTRO_CHROMEDRIVER, /usr/bin/chromedriver)"},
        },
        "additionalProperties": False,
    }

    def check(self, step: StepSpec) -> list[str]:
        return check_browser_step(step, ("selenium",))

    def run(self, step: StepSpec, context: StepContext) -> StepResult:
        setup = step_setup(step, context)
        if setup.driver is None:
            return StepResult(
                "failed", message="no chromedriver: set the step's `driver` option or MAESTRO_CHROMEDRIVER"
            )
        for what, path in (("Chromium", setup.executable), ("chromedriver", setup.driver)):
            missing = missing_path_problem(what, path)
            if missing:
                return StepResult("failed", message=missing)
        folder = evidence_folder(context)
        context = replace(context, env={**context.env, **offline_selenium_env(setup.driver)})
        if "script" in step.options:
            result = run_script(step, context, setup, folder, ["--maestro-framework=selenium"])
        else:
            # pytest-playwright stays out: nothing of it is needed here, and it slows every run down
            args = ["-p", "no:playwright", *pytest_plugin_args(step, setup, folder)]
            args += [*step.options.get("args", []), *step.options["paths"]]
            result = run_pytest(sys.executable, args, step, context)
        attach_recorded(result, folder, context.results_dir)
        return result
