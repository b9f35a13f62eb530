"""What travels through the queue: jobs one way, reports the other, each sealed with HMAC-SHA256.

A queue is a remote-execution channel: whoever can add a job runs a command on every worker. So a
message is a JSON ``body`` plus, when ``MAESTRO_QUEUE_SECRET`` is set, ``sig``, the HMAC-SHA256 of
the body under that secret. A side that has the secret refuses unsigned and altered messages; a
side without it refuses signed ones rather than run what it cannot check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..adapters.base import Attachment, StepResult, StepSpec, TestCase
from ..plan.executor import AttemptRequest

MESSAGE_VERSION = 1
# Files a step leaves in its results folder (screenshots, traces) travel back inside the result, up
# to this much per attempt: a stream entry is held in Redis's memory until the stream is trimmed.
MAX_FILES_BYTES = 16 * 1024 * 1024


class RefusedMessage(Exception):
    """A message that must not be acted on: unsigned, altered, or not maestro's."""


@dataclass(frozen=True)
class Job:
    """One attempt of one step, with everything a worker needs and no secret it must not see.

    ``request.step.env`` holds the plan's and the step's variables, never the coordinator's own
    environment; ``request.workdir`` is the step's folder on the coordinator, which a worker uses
    when it has the same checkout.
    """

    run_id: str
    request: AttemptRequest
    tags: tuple[str, ...] = ()
    # shareable secrets the job carries: the worker masks them in its output as the coordinator does
    mask: tuple[str, ...] = ()

    @classmethod
    def for_request(cls, run_id: str, request: AttemptRequest, tags: tuple[str, ...] = ()) -> Job:
        return cls(run_id, request, tuple(sorted(set(tags))))

    @property
    def step(self) -> StepSpec:
        return self.request.step

    @property
    def attempt(self) -> int:
        return self.request.attempt

    @property
    def label(self) -> str:
        return f"{self.step.id}#{self.attempt} of run {self.run_id}"

    def to_document(self) -> dict[str, Any]:
        """The job as JSON; the coordinator's results folder and log path stay home."""
        step = self.step
        return {
            "kind": "job",
            "version": MESSAGE_VERSION,
            "run_id": self.run_id,
            "step": {
                "id": step.id,
                "adapter": step.adapter,
                "options": step.options,
                "run": step.run,
                "env": step.env,
                "cwd": str(step.cwd) if step.cwd is not None else None,
                "timeout": step.timeout,
            },
            "attempt": self.attempt,
            "workdir": str(self.request.workdir),
            "tags": sorted(self.tags),
            "mask": list(self.mask),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Job:
        if document.get("kind") != "job" or document.get("version") != MESSAGE_VERSION:
            raise RefusedMessage(f"not a maestro job (kind {document.get('kind')!r}, version {document.get('version')!r})")
        try:
            step = document["step"]
            spec = StepSpec(
                id=str(step["id"]),
                adapter=str(step["adapter"]),
                options=dict(step.get("options") or {}),
                run=step.get("run"),
                env={str(k): str(v) for k, v in (step.get("env") or {}).items()},
                cwd=Path(step["cwd"]) if step.get("cwd") is not None else None,
                timeout=float(step["timeout"]) if step.get("timeout") is not None else None,
            )
            request = AttemptRequest(
                step=spec,
                attempt=int(document["attempt"]),
                workdir=Path(document["workdir"]),
                results_dir=Path("."),  # the worker's own, set where it runs the job
                log_path=Path("."),
            )
            tags = tuple(str(tag) for tag in document.get("tags") or ())
            mask = tuple(str(value) for value in document.get("mask") or ())
            return cls(str(document["run_id"]), request, tags, mask)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RefusedMessage(f"malformed job: {type(exc).__name__}: {exc}") from None


def seal(document: Mapping[str, Any], secret: str | None) -> dict[str, str]:
    """The stream fields of a message: its JSON body, and its signature when there is a secret."""
    body = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    fields = {"body": body}
    if secret:
        fields["sig"] = _signature(body, secret)
    return fields


def unseal(fields: Mapping[str, str], secret: str | None) -> dict[str, Any]:
    """The document in a message, or :class:`RefusedMessage` saying why it must not be trusted."""
    body = fields.get("body")
    signature = fields.get("sig")
    if body is None:
        raise RefusedMessage("malformed message: no body")
    if secret:
        if not signature:
            raise RefusedMessage("unsigned message, and MAESTRO_QUEUE_SECRET is set")
        if not hmac.compare_digest(_signature(body, secret), signature):
            raise RefusedMessage("signature does not match: the message was altered or signed with another secret")
    elif signature:
        raise RefusedMessage("signed message, but MAESTRO_QUEUE_SECRET is not set here to check it")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise RefusedMessage(f"malformed message: {exc}") from None
    if not isinstance(document, dict):
        raise RefusedMessage("malformed message: body is not a JSON object")
    return document


def _signature(body: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), body.encode("utf-8"), hashlib.sha256).hexdigest()


def unverified(fields: Mapping[str, str]) -> dict[str, Any]:
    """A message's document read without checking its signature; empty when it is not JSON.

    Only for what can do no harm: a worker's error report, which at most fails the step it names,
    must reach a coordinator whose secret it does not share (that mismatch is the error).
    """
    try:
        document = json.loads(fields.get("body", ""))
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def claimed_identity(fields: Mapping[str, str]) -> dict[str, Any]:
    """The run, step and attempt a job says it is for, read without trusting it (for error reports)."""
    document = unverified(fields)
    step = document.get("step")
    return {
        "run_id": document.get("run_id"),
        "step_id": step.get("id") if isinstance(step, dict) else None,
        "attempt": document.get("attempt"),
    }


def secrets_in(document: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
    """Names of the ``secrets`` (name -> value) whose value appears anywhere in ``document``."""
    if not secrets:
        return []
    body = json.dumps(document, ensure_ascii=False)
    return sorted(name for name, value in secrets.items() if value and value in body)


def step_result_from_dict(data: Mapping[str, Any]) -> StepResult:
    """The inverse of :meth:`StepResult.to_dict`, for results that crossed the queue."""
    return StepResult(
        outcome=data["outcome"],
        exit_code=data.get("exit_code"),
        message=data.get("message"),
        duration=float(data.get("duration") or 0.0),
        outputs={str(k): str(v) for k, v in (data.get("outputs") or {}).items()},
        cases=[
            TestCase(**{**case, "attachments": [Attachment(**a) for a in case.get("attachments") or []]})
            for case in data.get("cases") or []
        ],
        attachments=[Attachment(**a) for a in data.get("attachments") or []],
    )


def pack_files(folder: Path) -> tuple[dict[str, str], list[str]]:
    """Files under ``folder`` by relative path, base64-encoded; and those left out for size."""
    packed: dict[str, str] = {}
    left_out: list[str] = []
    total = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
        relative = path.relative_to(folder).as_posix()
        size = path.stat().st_size
        if total + size > MAX_FILES_BYTES:
            left_out.append(relative)
            continue
        total += size
        packed[relative] = base64.b64encode(path.read_bytes()).decode("ascii")
    return packed, left_out


def unpack_files(packed: Mapping[str, str], folder: Path) -> None:
    """Write packed files under ``folder``; a path that would land outside it is refused."""
    from ..fsutil import atomic_write_bytes

    root = folder.resolve()
    for relative, data in packed.items():
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or target == root:
            raise RefusedMessage(f"a result file would be written outside the results folder: {relative!r}")
        atomic_write_bytes(target, base64.b64decode(data))
