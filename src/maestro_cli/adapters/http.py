"""The ``http`` adapter: one HTTP request and expectations on its answer, retried until a deadline.

Expectations (all optional, all checked): ``status`` (a code or a list; default any 2xx),
``json`` (a subset the response body must contain), ``body`` (a regular expression searched in
the body), ``headers`` (a subset, names case-insensitive) and ``max_latency`` (seconds). With
``retry_for: SECONDS`` the request is repeated every ``interval`` seconds until the expectations
hold, that time has passed or the step's own timeout comes: what a freshly started API needs.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from .base import StepContext, StepResult, StepSpec

if TYPE_CHECKING:
    import httpx

# A health endpoint answers in milliseconds; 10 s means the service is stuck, not slow.
DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_INTERVAL = 0.5

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class HttpAdapter:
    CHECK_READS_ONLY_THE_STEP = True  # see adapters/base.py: plans of such steps are kept checked
    name = "http"
    description = "Send an HTTP request and check status, JSON subset, body regex, headers and latency."
    options_schema: dict[str, Any] = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "pattern": "^https?://"},
            "method": {"enum": _METHODS + [m.lower() for m in _METHODS]},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "params": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
            "json": {"description": "a JSON body"},
            "body": {"type": "string", "description": "a raw body"},
            "timeout": {"type": "number", "exclusiveMinimum": 0, "description": "seconds per request"},
            "verify": {"type": "boolean", "description": "check TLS certificates (default true)"},
            "retry_for": {"type": "number", "minimum": 0, "description": "keep trying this many seconds"},
            "interval": {"type": "number", "exclusiveMinimum": 0, "description": "seconds between tries"},
            "expect": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "status": {
                        "anyOf": [
                            {"type": "integer", "minimum": 100, "maximum": 599},
                            {"type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599}},
                        ]
                    },
                    "json": {"description": "a subset of the JSON response"},
                    "body": {"type": "string", "description": "regular expression searched in the body"},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "max_latency": {"type": "number", "exclusiveMinimum": 0, "description": "seconds"},
                },
            },
        },
        "additionalProperties": False,
    }

    def check(self, step: StepSpec) -> list[str]:
        problems = []
        if step.run is not None:
            problems.append("the http adapter takes `with: {url, ...}`, not `run:`")
        if "json" in step.options and "body" in step.options:
            problems.append("`with:` takes `json` or `body`, not both")
        pattern = step.options.get("expect", {}).get("body")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"expect.body is not a regular expression: {exc}")
        return problems

    def run(self, step: StepSpec, context: StepContext) -> StepResult:
        from ..resilience import http_client

        options = step.options
        started = time.monotonic()
        until = started + float(options.get("retry_for", 0))
        if context.deadline is not None:
            until = min(until, context.deadline)
        interval = float(options.get("interval", DEFAULT_INTERVAL))
        method = str(options.get("method", "GET")).upper()
        tries = 0
        with http_client(
            timeout=float(options.get("timeout", DEFAULT_REQUEST_TIMEOUT)),
            verify=bool(options.get("verify", True)),
            follow_redirects=True,
        ) as client:
            while True:
                tries += 1
                problems, outputs = _try_once(client, method, options, context)
                if not problems:
                    return StepResult("passed", duration=time.monotonic() - started, outputs=outputs)
                for problem in problems:
                    context.log.write(f"  {problem}\n")
                context.log.flush()
                if time.monotonic() + interval > until or context.cancel.wait(interval):
                    break
        if context.cancel.is_set():
            return StepResult("cancelled", message="cancelled", duration=time.monotonic() - started)
        timed_out = context.deadline is not None and time.monotonic() + interval > context.deadline
        message = problems[0] + (f" (after {tries} tries)" if tries > 1 else "")
        return StepResult("timed-out" if timed_out else "failed", message=message, duration=time.monotonic() - started, outputs=outputs)


def _try_once(client: httpx.Client, method: str, options: dict[str, Any], context: StepContext) -> tuple[list[str], dict[str, str]]:
    """Send the request once; the unmet expectations (empty when all hold) and the outputs."""
    import httpx

    body: dict[str, Any] = {}
    if "json" in options:
        body["json"] = options["json"]
    elif "body" in options:
        body["content"] = options["body"]
    sent = time.monotonic()
    try:
        response = client.request(method, options["url"], headers=options.get("headers"), params=options.get("params"), **body)
    except httpx.HTTPError as exc:
        context.log.write(f"{method} {options['url']} -> {type(exc).__name__}: {exc}\n")
        return [f"{method} {options['url']}: {type(exc).__name__}: {exc}"], {}
    latency = time.monotonic() - sent
    context.log.write(f"{method} {options['url']} -> {response.status_code} in {latency * 1000:.0f} ms\n")
    outputs = {"status": str(response.status_code), "latency_ms": f"{latency * 1000:.0f}"}
    return check_response(response, latency, options.get("expect", {})), outputs


def check_response(response: httpx.Response, latency: float, expect: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    wanted = expect.get("status")
    codes = wanted if isinstance(wanted, list) else [wanted] if wanted is not None else None
    if codes is None and not response.is_success:
        problems.append(f"status {response.status_code}, expected 2xx")
    elif codes is not None and response.status_code not in codes:
        problems.append(f"status {response.status_code}, expected {' or '.join(map(str, codes))}")
    if "json" in expect:
        try:
            document = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            problems.append("body is not JSON")
        else:
            mismatch = json_subset_mismatch(expect["json"], document, "$")
            if mismatch:
                problems.append(f"JSON {mismatch}")
    if "body" in expect and not re.search(expect["body"], response.text):
        problems.append(f"body does not match /{expect['body']}/")
    for name, value in expect.get("headers", {}).items():
        got = response.headers.get(name)
        if got != value:
            problems.append(f"header {name}: expected {value!r}, got {got!r}")
    limit = expect.get("max_latency")
    if limit is not None and latency > limit:
        problems.append(f"latency {latency * 1000:.0f} ms over max_latency {limit * 1000:.0f} ms")
    return problems


def json_subset_mismatch(expected: Any, actual: Any, path: str) -> str | None:
    """Where ``actual`` fails to contain ``expected``: objects may have more keys, lists match item by item."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {json.dumps(actual)[:80]}"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}.{key}: missing"
            mismatch = json_subset_mismatch(value, actual[key], f"{path}.{key}")
            if mismatch:
                return mismatch
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{path}: expected a list of {len(expected)}, got {json.dumps(actual)[:80]}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            mismatch = json_subset_mismatch(want, got, f"{path}[{index}]")
            if mismatch:
                return mismatch
        return None
    if expected != actual or type(expected) is not type(actual) and not _both_numbers(expected, actual):
        return f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)[:80]}"
    return None


def _both_numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
