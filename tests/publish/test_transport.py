"""The index client: the environment's proxy is used, and keep-alive connections are reused."""

from __future__ import annotations

import json

import pytest

from .servers import FaultyProxy, PypiServer

pytestmark = pytest.mark.slow


def test_plain_http_goes_through_the_proxy_the_environment_names(run_cli, pypiserver: PypiServer, proxy: FaultyProxy, built, publish_args, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    wheel = [f for f in built() if f.suffix == ".whl"]
    result = run_cli(*publish_args(pypiserver.url, *wheel, "--json"))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["files"][0]["outcome"] == "uploaded"
    assert proxy.forwarded_files == [wheel[0].name]
    # the upload, then the verification: both through the proxy, both naming the whole URL
    assert proxy.request_targets == [pypiserver.url, f"{pypiserver.simple_url}{wheel[0].name.split('-')[0].replace('_', '-')}/"]


def test_no_proxy_is_honoured(run_cli, pypiserver: PypiServer, proxy: FaultyProxy, built, publish_args, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    result = run_cli(*publish_args(pypiserver.url, *built()))
    assert result.exit_code == 0, result.stderr
    assert proxy.request_targets == []


def test_one_connection_carries_every_request_of_a_sequential_batch(run_cli, proxy: FaultyProxy, built, publish_args):
    files = [*built(), *built()]
    result = run_cli(*publish_args(proxy.url, *files, "--jobs", "1", "--no-verify"))
    assert result.exit_code == 0, result.stderr
    assert proxy.connections == 1


def test_an_unreadable_ca_bundle_is_bad_input_before_anything_is_sent(run_cli, proxy: FaultyProxy, built, tmp_path):
    bundle = tmp_path / "not-a-bundle.pem"
    bundle.write_text("not a certificate\n")
    https_url = proxy.url.replace("http://", "https://")
    result = run_cli("publish", "--repository-url", https_url, "-u", "alice", "-p", "x", "--cert", bundle, *built())
    assert result.exit_code == 2
    assert f"error: --cert {bundle}: not a readable CA bundle" in result.stderr
    assert proxy.connections == 0
