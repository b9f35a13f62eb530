"""Fixtures of the report tests: the dialect files, and maestro report run in-process as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
DIALECTS = FIXTURES / "dialects"
BAD = FIXTURES / "bad"
MAESTRO_RUN = FIXTURES / "maestro-run"


@pytest.fixture
def report_json(run_cli: Callable[..., Any]) -> Callable[..., tuple[Any, dict[str, Any]]]:
    """Run ``maestro --json report ARGS``: the run's result and the JSON document it printed."""

    def run(*args: str | Path) -> tuple[Any, dict[str, Any]]:
        result = run_cli("--json", "report", *args)
        assert result.exit_code in (0, 1), result.stderr
        return result, json.loads(result.stdout)

    return run
