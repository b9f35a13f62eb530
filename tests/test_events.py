"""Events: what an artifact's digest is, whichever SHA-256 implementation computes it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from maestro_cli.events import Artifact


@pytest.mark.parametrize("size", [0, 250_000, 3 * 1024 * 1024 + 7])  # empty, a run's results.json, past a megabyte
def test_an_artifacts_digest_is_the_sha256_of_its_bytes(tmp_path: Path, size: int) -> None:
    content = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    artifact_file = tmp_path / "artifact.bin"
    artifact_file.write_bytes(content)
    artifact = Artifact.from_file(artifact_file)
    assert (artifact.path, artifact.sha256) == (str(artifact_file), hashlib.sha256(content).hexdigest())
