"""The fixture repos of `maestro scan`, scanned once per session (the scan only reads them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_cli.scan.engine import ScanRequest, scan
from maestro_cli.scan.model import ScanReport

FIXTURES = Path(__file__).parents[1] / "fixtures" / "scan"


@pytest.fixture(scope="session")
def fixture_report(tmp_path_factory: pytest.TempPathFactory) -> ScanReport:
    cache = tmp_path_factory.mktemp("scan-cache")
    return scan(ScanRequest(paths=(FIXTURES,), cache_dir=cache, jobs=1))
