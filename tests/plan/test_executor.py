"""A step's log as adapters see it: appended to, masked, on disk as soon as it is written."""

from __future__ import annotations

from pathlib import Path

from maestro_cli import redaction
from maestro_cli.plan.executor import ScrubbedLog


def test_the_log_is_appended_masked_and_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "step.log"
    path.write_text("--- an earlier attempt\n")
    redaction.register("hunter2-secret")
    with ScrubbedLog(path) as log:
        assert log.write("token hunter2-secret, ünïcode\n") == len("token hunter2-secret, ünïcode\n")
        # no flush: whoever follows the file (tail -f, the summary's tail) sees the line already
        assert path.read_text(encoding="utf-8") == "--- an earlier attempt\ntoken ****, ünïcode\n"
    assert log.closed

