"""The ``selenium`` adapter: a user's Selenium 4 pytest files against Chromium and chromedriver.

The tests take the ``driver`` fixture of maestro's browser pytest plugin (a Chrome WebDriver on the
step's Chromium, headless, with a fresh profile); every case is read from pytest's JUnit XML and a
failed test's screenshot is attached to it. Selenium Manager is kept offline: the driver path is
always given, so nothing is ever downloaded.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from .base import StepContext, StepResult, StepSpec
from .browser import (
    COMMON_OPTIONS,
    attach_recorded,
    check_browser_step,
    evidence_folder,
    missing_path_problem,
    offline_selenium_env,
    pytest_plugin_args,
    step_setup,
)
from .pytest import run_pytest


class SeleniumAdapter:
    name = "selenium"
    description = "Run Selenium pytest files on Chromium through chromedriver (never downloads one)."
    options_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            **COMMON_OPTIONS,
            "driver": {"type": "string", "description": "chromedriver (default: MAESTRO_CHROMEDRIVER, /usr/bin/chromedriver)"},
        },
        "required": ["paths"],
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
        # pytest-playwright stays out: nothing of it is needed here, and it slows every run down
        args = ["-p", "no:playwright", *pytest_plugin_args(step, setup, folder)]
        args += [*step.options.get("args", []), *step.options["paths"]]
        env = {**context.env, **offline_selenium_env(setup.driver)}
        result = run_pytest(sys.executable, args, step, replace(context, env=env))
        attach_recorded(result, folder, context.results_dir)
        return result
