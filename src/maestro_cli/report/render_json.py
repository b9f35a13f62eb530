"""The report as one JSON document: a pure function of the :class:`~.aggregate.Report`.

The same document is what ``--baseline`` reads back, through its ``failing`` list.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .aggregate import Report

REPORT_FORMAT = "maestro-report"
REPORT_VERSION = 1


def to_document(report: Report) -> dict[str, Any]:
    totals = report.totals.to_dict()
    del totals["name"]
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "title": report.title,
        "generated": report.generated.isoformat(timespec="seconds"),
        "totals": totals,
        "suites": [c.to_dict() for c in report.suites],
        "classes": [c.to_dict() for c in report.classes],
        "failures": [
            {
                "suite": f.suite,
                "classname": f.classname,
                "name": f.name,
                "file": f.file,
                "line": f.line,
                "kind": f.kind,
                "message": f.message,
                "details": f.details,
                "time": round(f.time, 3),
                "evidence": f.evidence,
                "attachments": [asdict(a) for a in f.attachments],
                **({"status": f.status} if f.status else {}),
            }
            for f in report.failures
        ],
        "failures_total": report.failures_total,
        "failing": report.failing,
        "failing_complete": report.failing_complete,
        "slowest": [{"name": s.name, "classname": s.classname, "suite": s.suite, "time": round(s.time, 3)} for s in report.slowest],
        "flaky": [
            {
                "classname": f.classname,
                "name": f.name,
                "suite": f.suite,
                "evidence": f.evidence,
                "source": f.source,
                **({"flip_rate": f.flip_rate} if f.flip_rate is not None else {}),
            }
            for f in report.flaky
        ],
        "flaky_total": report.flaky_total,
        "inputs": [{"path": i.path, "format": i.format, "tests": i.tests, "ok": i.ok} for i in report.inputs],
        "warnings": [str(w) for w in report.warnings],
        "trend": [{**asdict(p), "pass_rate": round(p.pass_rate, 4)} for p in report.trend],
        "baseline": (
            {
                "path": report.baseline.path,
                "new": report.baseline.new,
                "still_failing": report.baseline.still_failing,
                "fixed": report.baseline.fixed,
                "counts": report.baseline.counts,
            }
            if report.baseline
            else None
        ),
        "history_entry": str(report.history_entry) if report.history_entry else None,
    }

