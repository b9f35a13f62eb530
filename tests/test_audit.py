"""The audit log: records, concurrent writers, reading, exporting, and secrets kept out."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
from pathlib import Path

import pytest

from maestro_cli import events, redaction
from maestro_cli.audit import AuditLog, read_records
from maestro_cli.events import Artifact, Event


def _write_many(path: str, writer: int, count: int) -> None:
    log = AuditLog(Path(path), "publish", ["publish", f"writer-{writer}"])
    for index in range(count):
        # long records make torn writes likely if appends were not atomic
        log(Event("publish.uploaded", details={"writer": writer, "index": index, "padding": "x" * 5000}))


def test_concurrent_writers_lose_and_tear_no_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(str(path), w, 200)) for w in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 6 * 200
    seen = {(r["details"]["writer"], r["details"]["index"]) for r in map(json.loads, lines)}
    assert seen == {(w, i) for w in range(6) for i in range(200)}


def test_record_fields(tmp_path: Path) -> None:
    artifact_file = tmp_path / "pkg-1.0.tar.gz"
    artifact_file.write_bytes(b"content")
    log = AuditLog(tmp_path / ".maestro" / "audit.jsonl", "extract", ["extract", "src/x", "--name", "x"])
    log(Event("extract.written", outcome="ok", artifacts=(Artifact.from_file(artifact_file),), details={"files": 3}))
    (record,) = read_records(log.path)
    assert record["command"] == "extract"
    assert record["action"] == "extract.written"
    assert record["arguments"] == ["extract", "src/x", "--name", "x"]
    assert record["artifacts"] == [
        {"path": str(artifact_file), "sha256": "ed7002b439e9ac845f22357d822bac1444730fbdb6016d3ec9432297b9ec9f73"}
    ]
    assert record["timestamp"].endswith("+00:00")
    assert {"user", "host", "version", "outcome", "details"} <= record.keys()


def test_secrets_never_reach_the_audit_file(tmp_path: Path) -> None:
    redaction.register_from_environment({"MAESTRO_PASSWORD": "env-secret-77"})
    argv = ["publish", "-p", "hunter2", "--token=pypi-tok-abc", "--repository-url", "https://bob:url-pw-9@index.example/"]
    redaction.register_argv(argv)
    log = AuditLog(tmp_path / "audit.jsonl", "publish", argv)
    log(Event("publish.uploaded", outcome="failed", details={"message": "login hunter2 / env-secret-77 refused"}))
    text = log.path.read_text()
    for secret in ("hunter2", "pypi-tok-abc", "url-pw-9", "env-secret-77"):
        assert secret not in text
    (record,) = read_records(log.path)
    assert record["arguments"] == ["publish", "-p", "****", "--token=****", "--repository-url", "https://bob:****@index.example/"]


def test_cli_listener_records_core_events_in_the_project_audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli.cli import _attach_audit
    from maestro_cli.context import State

    (tmp_path / "maestro.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    listeners = list(events._listeners)
    try:
        _attach_audit(State(command="extract", argv=["extract", "legacy/x", "--name", "x"]))
        events.emit("extract.written", artifacts=[Artifact("out/x", "0" * 64)], files=2)
    finally:
        events._listeners[:] = listeners
    (record,) = read_records(tmp_path / ".maestro" / "audit.jsonl")
    assert (record["command"], record["action"], record["details"]) == ("extract", "extract.written", {"files": 2})
    assert record["arguments"] == ["extract", "legacy/x", "--name", "x"]


def test_audit_can_be_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli.cli import _attach_audit
    from maestro_cli.context import State

    (tmp_path / "maestro.toml").write_text("audit = false\n")
    monkeypatch.chdir(tmp_path)
    listeners = list(events._listeners)
    try:
        _attach_audit(State(command="extract"))
        events.emit("extract.written")
    finally:
        events._listeners[:] = listeners
    assert not (tmp_path / ".maestro").exists()


@pytest.fixture
def audit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "maestro.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / ".maestro" / "audit.jsonl"
    path.parent.mkdir()
    records = [
        {"timestamp": "2026-10-30T10:00:00.000+00:00", "command": "extract", "action": "extract.written", "outcome": "ok",
         "user": "ana", "host": "h", "version": "0.1.0", "arguments": ["extract", "a"], "artifacts": [{"path": "out/a", "sha256": "ab"}], "details": {}},
        {"timestamp": "2026-11-02T10:00:00.000+00:00", "command": "publish", "action": "publish.uploaded", "outcome": "ok",
         "user": "ana", "host": "h", "version": "0.1.0", "arguments": ["publish"], "artifacts": [{"path": "a-1.0.whl", "sha256": "cd"}], "details": {}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_audit_show_filters(run_cli, audit_file: Path) -> None:
    result = run_cli("audit", "show", "--since", "2026-11-01", "--json")
    assert result.exit_code == 0
    assert [r["command"] for r in json.loads(result.stdout)] == ["publish"]
    result = run_cli("audit", "show", "--command", "extract", "--json")
    assert [r["action"] for r in json.loads(result.stdout)] == ["extract.written"]
    table = run_cli("audit", "show")
    assert "2 audit record(s)" in table.stdout and "publish.uploaded" in table.stdout


def test_audit_export_formats(run_cli, audit_file: Path, tmp_path: Path) -> None:
    jsonl = run_cli("audit", "export", "--format", "jsonl")
    assert [json.loads(line)["command"] for line in jsonl.stdout.splitlines()] == ["extract", "publish"]
    as_json = run_cli("audit", "export", "--format", "json")
    assert len(json.loads(as_json.stdout)) == 2
    target = tmp_path / "audit.csv"
    assert run_cli("audit", "export", "--format", "csv", "--output", target).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["command"] for r in rows] == ["extract", "publish"]
    assert rows[1]["artifacts"] == "a-1.0.whl@sha256:cd"


def test_audit_bad_input(run_cli, audit_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli("audit", "export", "--format", "xml")
    assert result.exit_code == 2
    assert "unknown export format 'xml'; choose one of jsonl, json, csv" in result.stderr
    bad = run_cli("audit", "show", "--since", "last tuesday")
    assert bad.exit_code == 2 and "--since: 'last tuesday' is not a date" in bad.stderr
    with audit_file.open("a") as stream:
        stream.write('{"timestamp": "2026-11-03T\n')
    damaged = run_cli("audit", "show")
    assert damaged.exit_code == 2
    assert f"{audit_file}:3:" in damaged.stderr and "damaged audit record" in damaged.stderr


def test_secret_from_environment_is_masked_in_error_messages(run_cli, audit_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_PASSWORD", "s3cr3t-pass")
    result = run_cli("audit", "show", "--since", "s3cr3t-pass")
    assert result.exit_code == 2
    assert "s3cr3t-pass" not in result.output
    assert "--since: '****' is not a date" in result.stderr


def test_an_action_that_must_not_touch_the_project_is_audited_in_the_user_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_environment: Path
) -> None:
    """`maestro extract` run from inside the legacy repo: the repo stays untouched, the record goes home."""
    from maestro_cli.cli import _attach_audit
    from maestro_cli.context import State

    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "pyproject.toml").write_text("[project]\nname = 'legacy'\n")
    monkeypatch.chdir(legacy)
    monkeypatch.setenv("XDG_STATE_HOME", str(isolated_environment / ".local" / "state"))
    listeners = list(events._listeners)
    try:
        _attach_audit(State(command="extract", argv=["extract", "pkg", "--name", "pkg"]))
        events.emit("extract.written", read_only=[legacy])
    finally:
        events._listeners[:] = listeners
    assert sorted(p.name for p in legacy.iterdir()) == ["pyproject.toml"]
    (record,) = read_records(isolated_environment / ".local" / "state" / "maestro" / "audit.jsonl")
    assert record["action"] == "extract.written"
