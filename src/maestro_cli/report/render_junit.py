"""Every input merged into one JUnit XML file, with counters recounted from the cases.

Each suite element of each input stays one ``<testsuite>``, so the same test from two inputs is
never mistaken for a rerun when the merged file is read again. A flaky test is
written as a pass with Surefire's ``<flakyFailure>`` so that tools reading the merged file still
see that it needed a rerun. Captured output is not carried over: the merged file is for counting
and triage, the inputs stay the record of what a test printed.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from .aggregate import Report
from .model import Case
from .spool import read_groups

# characters XML 1.0 cannot hold at all (ANSI escapes in assertion messages are the usual source)
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(report: Report) -> bytearray:
    """The merged file as UTF-8, built one suite at a time: at a million cases the text is ~100 MB,
    and holding it once (not as parts, then a string, then bytes) keeps the peak near that."""
    totals = report.totals
    data = bytearray(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<testsuites name={_attr(report.title)} tests=\"{totals.tests}\" failures=\"{totals.failed}\" "
            f"errors=\"{totals.errors}\" skipped=\"{totals.skipped}\" time=\"{totals.time:.3f}\">\n"
        ).encode()
    )
    for cases in read_groups(report.spool_paths):
        failures = sum(c.outcome == "failed" for c in cases)
        errors = sum(c.outcome == "error" for c in cases)
        skipped = sum(c.outcome == "skipped" for c in cases)
        time = sum(c.time for c in cases)
        head = (
            f"  <testsuite name={_attr(cases[0].suite)} tests=\"{len(cases)}\" failures=\"{failures}\" errors=\"{errors}\" "
            f"skipped=\"{skipped}\" time=\"{time:.3f}\">\n"
        )
        data += "".join([head, *(_case(case) for case in cases), "  </testsuite>\n"]).encode()
    data += b"</testsuites>\n"
    return data


def _case(case: Case) -> str:
    head = f"    <testcase classname={_attr(case.classname)} name={_attr(case.name)} time=\"{case.time:.3f}\""
    if case.file:
        head += f" file={_attr(case.file)}"
    if case.line:
        head += f' line="{case.line}"'
    if case.outcome == "passed":
        return head + "/>\n"
    body = ""
    if case.outcome in ("failed", "error"):
        tag = "failure" if case.outcome == "failed" else "error"
        body = f"<{tag} message={_attr(case.message or '')}>{_text(case.details or '')}</{tag}>"
    elif case.outcome == "skipped":
        body = f"<skipped message={_attr(case.message or '')}/>"
    elif case.outcome == "flaky":
        body = f"<flakyFailure message={_attr(case.rerun_message or '')}/>" * max(case.reruns, 1)
    return f"{head}>{body}</testcase>\n"


def _attr(text: str) -> str:
    return quoteattr(_INVALID_XML.sub("", text))


def _text(text: str) -> str:
    return escape(_INVALID_XML.sub("", text))
