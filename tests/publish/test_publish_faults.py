"""Faults a healthy server cannot show, from a real proxy in front of pypiserver.

Each case ends with the file stored exactly once: the server's copy is the one sent, and the proxy
saw exactly one upload of it reach the server.
"""

from __future__ import annotations

import json
import ssl

import pytest

from .servers import FaultyProxy, PypiServer, running_proxy, self_signed_certificate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("faults", "detail", "posts"),
    [
        (["503", "503"], "uploaded", 3),
        (["reset"], "uploaded", 2),
        # the file is on the server after the 502: the retry finds it by hash and sends nothing
        (["store-502"], "stored by an earlier attempt (same sha256 listed)", 1),
    ],
)
def test_a_flaky_server_ends_with_the_file_stored_once(run_cli, pypiserver: PypiServer, proxy: FaultyProxy, built, publish_args, faults, detail, posts):
    wheel = [f for f in built() if f.suffix == ".whl"]
    proxy.faults = list(faults)
    result = run_cli(*publish_args(proxy.url, *wheel, "--json"))
    assert result.exit_code == 0, result.stderr
    entry = json.loads(result.stdout)["files"][0]
    assert (entry["outcome"], entry["message"]) == ("uploaded", detail)
    assert proxy.posts_received == posts
    assert proxy.forwarded_files == [wheel[0].name]
    assert (pypiserver.packages / wheel[0].name).read_bytes() == wheel[0].read_bytes()


def test_a_stalled_upload_times_out_and_is_retried(run_cli, pypiserver: PypiServer, proxy: FaultyProxy, built, publish_args):
    wheel = [f for f in built() if f.suffix == ".whl"]
    proxy.faults, proxy.stall_seconds = ["stall"], 4.0
    result = run_cli(*publish_args(proxy.url, *wheel, "--timeout", "1", "--json"))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["files"][0]["outcome"] == "uploaded"
    assert proxy.forwarded_files == [wheel[0].name]
    assert wheel[0].name in pypiserver.stored()


def test_a_server_that_stays_down_trips_the_breaker_and_says_what_is_missing(run_cli, pypiserver, proxy: FaultyProxy, built, publish_args):
    files = [*built(), *built()]
    proxy.faults = ["always-503"]
    result = run_cli(*publish_args(proxy.url, *files, "--jobs", "1", "--retries", "1", "--json"))
    assert result.exit_code == 1
    outcomes = [f["outcome"] for f in json.loads(result.stdout)["files"]]
    assert outcomes.count("failed") == 3 and outcomes.count("not-attempted") == 1
    assert proxy.posts_received == 5  # the breaker's threshold: nothing is sent after it opens
    assert proxy.forwarded_files == []

    human = run_cli(*publish_args(proxy.url, *files, "--jobs", "1", "--retries", "1"))
    assert human.exit_code == 1
    assert "error: the batch was stopped; on the index: none; not uploaded: " in human.stderr
    assert "stopped after 5 consecutive failures against " in human.stderr


def test_a_redirected_upload_is_a_failure_with_a_hint_not_a_success(run_cli, proxy: FaultyProxy, built, publish_args):
    wheel = [f for f in built() if f.suffix == ".whl"]
    proxy.faults = ["redirect"]
    result = run_cli(*publish_args(proxy.url, *wheel))
    assert result.exit_code == 1
    assert "HTTP 301 Moved Permanently: the server redirected or refused the upload to /simple/" in result.stderr
    assert "hint: the repository URL must be the index's upload (legacy API) URL" in result.stderr
    assert proxy.posts_received == 1  # a 3xx is not retried


@pytest.mark.parametrize("fault", ["nexus-exists", "artifactory-exists"])
def test_other_servers_already_exists_answers_are_recognised(run_cli, proxy: FaultyProxy, built, publish_args, fault):
    wheel = [f for f in built() if f.suffix == ".whl"]
    proxy.faults = [fault]
    refused = run_cli(*publish_args(proxy.url, *wheel))
    assert refused.exit_code == 1
    assert "hint: pass --skip-existing to skip files the index already has" in refused.stderr

    proxy.faults = [fault]
    skipped = run_cli(*publish_args(proxy.url, *wheel, "--skip-existing", "--json"))
    assert skipped.exit_code == 0, skipped.stderr
    entry = json.loads(skipped.stdout)["files"][0]
    assert entry["outcome"] == "skipped" and entry["message"].startswith("the server says it already has this file")
    assert proxy.forwarded_files == []


def test_client_errors_are_not_retried(run_cli, proxy: FaultyProxy, built):
    files = built()
    result = run_cli("publish", "--repository-url", proxy.url, "-u", "alice", "-p", "wrong-Pa55", *files)
    assert result.exit_code == 1
    assert proxy.posts_received == len(files)


def test_https_with_the_right_ca_bundle_and_a_clear_refusal_without(run_cli, pypiserver: PypiServer, built, publish_args, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    wheel = [f for f in built() if f.suffix == ".whl"]
    with running_proxy(pypiserver.url, tls=context) as proxy:
        untrusted = run_cli(*publish_args(proxy.url, *wheel))
        assert untrusted.exit_code == 1
        assert "the server's TLS certificate is not trusted" in untrusted.stderr
        assert "hint: pass --cert" in untrusted.stderr
        assert proxy.posts_received == 0  # not retried: a certificate does not get better

        trusted = run_cli(*publish_args(proxy.url, *wheel, "--cert", cert))
        assert trusted.exit_code == 0, trusted.stderr
    assert wheel[0].name in pypiserver.stored()


def _big_wheel(folder, megabytes: int = 16):
    """A valid wheel larger than the sockets' buffers: its upload cannot be sent before an answer."""
    import os
    import zipfile

    path = folder / "acme_big-1.0.0-py3-none-any.whl"
    meta = "Metadata-Version: 2.1\nName: acme-big\nVersion: 1.0.0\nSummary: big\nDescription-Content-Type: text/markdown\n\n# big\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("acme_big/blob.bin", os.urandom(megabytes << 20))
        archive.writestr("acme_big-1.0.0.dist-info/METADATA", meta)
        archive.writestr("acme_big-1.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("acme_big-1.0.0.dist-info/RECORD", "")
    return path


def test_an_answer_before_the_whole_upload_is_shown_not_the_broken_pipe(run_cli, proxy: FaultyProxy, publish_args, tmp_path):
    proxy.faults = ["refuse-early"]
    result = run_cli(*publish_args(proxy.url, _big_wheel(tmp_path)))
    assert result.exit_code == 1
    assert "error: acme_big-1.0.0-py3-none-any.whl: authentication or permission refused: HTTP 401 Unauthorized" in result.stderr
    assert proxy.posts_received == 1  # a refusal is not retried
