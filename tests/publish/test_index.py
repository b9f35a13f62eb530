"""Simple-index URLs derived from upload URLs, and both simple-API formats parsed."""

from __future__ import annotations

import json

import pytest

from maestro_cli.publish.index import parse_project_page, simple_url_candidates, upload_url_hint


@pytest.mark.parametrize(
    ("upload_url", "simple"),
    [
        ("https://upload.pypi.org/legacy/", ["https://pypi.org/simple/"]),
        ("https://test.pypi.org/legacy/", ["https://test.pypi.org/simple/"]),
        ("http://127.0.0.1:8080/", ["http://127.0.0.1:8080/simple/"]),  # pypiserver
        ("https://devpi.acme.io/ci/prod/", ["https://devpi.acme.io/ci/prod/+simple/", "https://devpi.acme.io/ci/prod/simple/"]),
        ("https://nexus.acme.io/repository/pypi-internal/", ["https://nexus.acme.io/repository/pypi-internal/simple/"]),
        ("https://acme.jfrog.io/artifactory/api/pypi/pypi-local", ["https://acme.jfrog.io/artifactory/api/pypi/pypi-local/simple/"]),
        ("https://gitlab.acme.io/api/v4/projects/42/packages/pypi", ["https://gitlab.acme.io/api/v4/projects/42/packages/pypi/simple/"]),
        ("https://pkgs.acme.io/pypi/legacy/", ["https://pkgs.acme.io/pypi/simple/"]),
    ],
)
def test_simple_url_is_derived_for_each_server_convention(upload_url, simple):
    assert simple_url_candidates(upload_url) == simple


@pytest.mark.parametrize(
    ("wrong_url", "hint"),
    [
        ("https://pypi.org/simple/", "the upload URL is probably https://upload.pypi.org/legacy/"),
        ("http://127.0.0.1:8080/simple/", "the upload URL is probably http://127.0.0.1:8080/"),
        ("https://devpi.acme.io/ci/prod/+simple/", "the upload URL is probably https://devpi.acme.io/ci/prod/"),
    ],
)
def test_a_simple_index_url_used_for_upload_gets_the_right_hint(wrong_url, hint):
    assert upload_url_hint(wrong_url).endswith(hint)


def test_pep_691_json_page_gives_files_and_hashes():
    document = {
        "meta": {"api-version": "1.1"},
        "name": "acme-core",
        "files": [
            {"filename": "acme_core-1.0.tar.gz", "url": "../../files/acme_core-1.0.tar.gz", "hashes": {"sha256": "ab" * 32}},
            {"filename": "acme_core-1.0-py3-none-any.whl", "url": "https://cdn/x.whl", "hashes": {}},
        ],
    }
    files = parse_project_page(json.dumps(document), "application/vnd.pypi.simple.v1+json", "https://idx/simple/acme-core/")
    assert files["acme_core-1.0.tar.gz"].sha256 == "ab" * 32
    assert files["acme_core-1.0.tar.gz"].url == "https://idx/files/acme_core-1.0.tar.gz"
    assert files["acme_core-1.0-py3-none-any.whl"].sha256 is None


def test_pep_503_html_page_gives_files_and_hashes():
    html = """<!DOCTYPE html><html><body>
    <a href="../../packages/acme_core-1.0.tar.gz#sha256=cd">acme_core-1.0.tar.gz</a><br>
    <a href="/packages/acme_core-1.0-py3-none-any.whl#md5=ee" data-requires-python="&gt;=3.9">acme_core-1.0-py3-none-any.whl</a>
    </body></html>"""
    files = parse_project_page(html, "text/html; charset=utf-8", "http://idx/simple/acme-core/")
    assert files["acme_core-1.0.tar.gz"].sha256 == "cd"
    assert files["acme_core-1.0.tar.gz"].url == "http://idx/packages/acme_core-1.0.tar.gz"
    assert files["acme_core-1.0-py3-none-any.whl"].sha256 is None  # md5 is not a hash maestro trusts
