"""`maestro publish` against a real pypiserver: what a user sees, what the server stores."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from maestro_cli import audit

from .projects import write_project
from .servers import PASSWORD, FaultyProxy, PypiServer

pytestmark = pytest.mark.slow


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_publish_uploads_verifies_and_audits_each_file(run_cli, pypiserver: PypiServer, built, publish_args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = built()
    result = run_cli(*publish_args(pypiserver.url, *files), "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [f["outcome"] for f in document["files"]] == ["uploaded", "uploaded"]
    assert {f.name for f in files} <= set(pypiserver.stored())
    for file in files:
        assert _sha256(pypiserver.packages / file.name) == _sha256(file)
    records = list(audit.read_records(tmp_path / ".maestro" / "audit.jsonl"))
    uploads = [r for r in records if r["action"] == "publish.uploaded"]
    assert sorted(r["artifacts"][0]["path"] for r in uploads) == sorted(f.name for f in files)
    assert {r["outcome"] for r in uploads} == {"uploaded"}
    assert {r["details"]["repository"] for r in uploads} == {pypiserver.url}
    assert uploads[0]["artifacts"][0]["sha256"] in {_sha256(f) for f in files}
    log_text = (tmp_path / ".maestro" / "audit.jsonl").read_text()
    assert PASSWORD not in log_text and PASSWORD not in result.output


def test_publish_again_fails_with_the_servers_reason_unless_skip_existing(run_cli, pypiserver, proxy: FaultyProxy, built, publish_args):
    files = built()
    assert run_cli(*publish_args(proxy.url, *files)).exit_code == 0
    sent_first = list(proxy.forwarded_files)

    again = run_cli(*publish_args(proxy.url, *files))
    assert again.exit_code == 1
    assert "409 Conflict" in again.stderr and "already exists" in again.stderr
    assert "hint: pass --skip-existing" in again.stderr

    posts_before = len(proxy.forwarded_files)
    skipped = run_cli(*publish_args(proxy.url, *files, "--skip-existing", "--json"))
    assert skipped.exit_code == 0, skipped.stderr
    assert [f["outcome"] for f in json.loads(skipped.stdout)["files"]] == ["skipped", "skipped"]
    assert len(proxy.forwarded_files) == posts_before  # nothing re-sent
    assert sorted(sent_first) == sorted(f.name for f in files)


def test_wrong_password_fails_clearly_without_showing_it(run_cli, pypiserver, built, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = built()
    wrong = "not-the-Pa55word-x9"
    result = run_cli("publish", "--repository-url", pypiserver.url, "-u", "alice", "-p", wrong, *files)
    assert result.exit_code == 1
    assert "authentication or permission refused: HTTP 403" in result.stderr
    assert "hint: check the user name and password" in result.stderr
    assert wrong not in result.output
    assert wrong not in (tmp_path / ".maestro" / "audit.jsonl").read_text()
    assert not set(f.name for f in files) & set(pypiserver.stored())


def test_a_rebuild_with_another_hash_is_refused_not_overwritten(run_cli, pypiserver, built, publish_args, unique_name):
    name = unique_name()
    first = built(name)
    assert run_cli(*publish_args(pypiserver.url, *first)).exit_code == 0
    second = built(name, body="VALUE = 2\n")
    assert {f.name for f in first} == {f.name for f in second}
    assert {_sha256(f) for f in first}.isdisjoint(_sha256(f) for f in second)

    result = run_cli(*publish_args(pypiserver.url, *second, "--skip-existing"))
    assert result.exit_code == 1
    assert "with another sha256; refusing to overwrite it" in result.stderr
    for file in first:
        assert _sha256(pypiserver.packages / file.name) == _sha256(file)


def test_dry_run_sends_nothing_and_shows_sizes_and_hashes(run_cli, proxy: FaultyProxy, built, publish_args):
    files = built()
    result = run_cli(*publish_args(proxy.url, *files, "--dry-run"))
    assert result.exit_code == 0, result.stderr
    assert proxy.forwarded_files == [] and proxy.posts_received == 0
    assert f"dry run: nothing was sent to {proxy.url}" in result.stdout
    for file in files:
        assert re.search(rf"^would-upload +{re.escape(file.name)} +{file.stat().st_size} bytes  sha256:{_sha256(file)}$", result.stdout, re.M)


def test_dependencies_are_uploaded_before_their_dependents(run_cli, proxy: FaultyProxy, built, publish_args, unique_name):
    core = unique_name("core")
    app = built(unique_name("app"), dependencies=(f"{core}>=1.0",))
    lib = built(core)
    result = run_cli(*publish_args(proxy.url, *app, *lib, "--jobs", "4"))
    assert result.exit_code == 0, result.stderr
    order = proxy.forwarded_files
    assert set(order[:2]) == {f.name for f in lib}
    assert set(order[2:]) == {f.name for f in app}


def test_the_simple_index_url_as_upload_url_gets_a_hint(run_cli, pypiserver, built, publish_args):
    result = run_cli(*publish_args(pypiserver.simple_url, *built()))
    assert result.exit_code == 1
    assert "405" in result.stderr
    assert f"hint: this looks like the simple index URL; the upload URL is probably {pypiserver.url}" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.whl"], "error: missing.whl: no such file or folder"),
        (["notes.txt"], "error: notes.txt: not a distribution file (expected .whl, .tar.gz or .zip)"),
        (["--repository-url", "ftp://index.example/"], "error: 'ftp://index.example/' is not an http(s) URL"),
        (
            ["--repository-url", "http://index.example/"],
            "error: refusing to send credentials and packages in clear text to index.example over http://",
        ),
    ],
)
def test_bad_input_exits_2_before_sending_anything(run_cli, built, tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a package")
    files = [] if any(a.endswith((".whl", ".txt")) for a in arguments) else built()
    result = run_cli("publish", "--repository-url", "http://127.0.0.1:9/", *arguments, *files)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_project_folder_is_built_then_published_leaving_its_dist_alone(run_cli, pypiserver, publish_args, tmp_path, unique_name):
    project = write_project(tmp_path, unique_name())
    result = run_cli(*publish_args(pypiserver.url, project, "--json"))
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    [build] = document["built"]
    assert build["project"] == str(project)
    uploaded = {f["file"] for f in document["files"] if f["outcome"] == "uploaded"}
    assert len(uploaded) == 2 and uploaded <= set(pypiserver.stored())
    assert not (project / "dist").exists()


def test_without_paths_dist_is_published_or_the_current_project_built(run_cli, pypiserver, publish_args, tmp_path, unique_name, monkeypatch):
    project = write_project(tmp_path, unique_name())
    monkeypatch.chdir(project)
    built_here = run_cli(*publish_args(pypiserver.url, "--json"))
    assert built_here.exit_code == 0, built_here.stderr
    assert len(json.loads(built_here.stdout)["built"]) == 1

    assert run_cli("build", "--no-sdist").exit_code == 0
    from_dist = run_cli(*publish_args(pypiserver.url, "--skip-existing", "--json"))
    assert from_dist.exit_code == 0, from_dist.stderr
    document = json.loads(from_dist.stdout)
    assert document["built"] == []
    assert [(Path(f["path"]).parent, f["outcome"]) for f in document["files"]] == [(project / "dist", "skipped")]


def test_twine_users_ci_variables_keep_working(run_cli, pypiserver, built, monkeypatch):
    from .servers import USER

    monkeypatch.setenv("TWINE_REPOSITORY_URL", pypiserver.url)
    monkeypatch.setenv("TWINE_USERNAME", USER)
    monkeypatch.setenv("TWINE_PASSWORD", PASSWORD)
    files = built()
    result = run_cli("publish", *files)
    assert result.exit_code == 0, result.stderr
    assert {f.name for f in files} <= set(pypiserver.stored())

    monkeypatch.setenv("MAESTRO_PASSWORD", "maestro-wins-Pa55")  # MAESTRO_* beats TWINE_*
    again = run_cli("publish", "--skip-existing", *files)
    assert again.exit_code == 1
    assert "403" in again.stderr and "maestro-wins-Pa55" not in again.output


def test_a_file_whose_name_disagrees_with_its_metadata_is_refused_before_any_upload(run_cli, proxy: FaultyProxy, built, publish_args, tmp_path):
    import shutil

    good = built()
    wheel = next(f for f in good if f.suffix == ".whl")
    renamed = tmp_path / wheel.name.replace("-1.0.0-", "-1.0.1-")
    shutil.copy(wheel, renamed)
    result = run_cli(*publish_args(proxy.url, *good, renamed))
    assert result.exit_code == 2
    assert f"error: {renamed}: the file name says" in result.stderr
    assert "hint: rebuild the distribution instead of renaming it" in result.stderr
    assert proxy.posts_received == 0  # the good files were not sent either


def test_skip_existing_asks_the_index_once_per_project_before_uploading(run_cli, pypiserver, proxy: FaultyProxy, built, publish_args):
    files = [*built(), *built(), *built()]  # three projects, an sdist and a wheel each
    result = run_cli(*publish_args(proxy.url, *files, "--skip-existing", "--jobs", "4", "--json"))
    assert result.exit_code == 0, result.stderr
    projects = {entry["project"] for entry in json.loads(result.stdout)["files"]}
    pages = [target for target in proxy.request_targets if "/simple/" in target]
    # one lookup before the uploads and one verification after them, per project, however the
    # four upload threads meet the two files of a project
    assert sorted(pages) == sorted(f"/simple/{project}/" for project in projects for _ in range(2))
    assert len(proxy.forwarded_files) == len(files)


def test_the_audit_records_the_outcome_after_verification(run_cli, pypiserver, built, publish_args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = built()
    # the files go up, but this "index" lists nothing: verification turns each into a failure
    result = run_cli(*publish_args(pypiserver.url, *files, "--index-url", f"{pypiserver.url}elsewhere/simple/"))
    assert result.exit_code == 1
    assert {f.name for f in files} <= set(pypiserver.stored())
    records = [r for r in audit.read_records(tmp_path / ".maestro" / "audit.jsonl") if r["action"] == "publish.uploaded"]
    assert sorted(r["artifacts"][0]["path"] for r in records) == sorted(f.name for f in files)
    assert {r["outcome"] for r in records} == {"failed"}
    assert all("does not list it" in r["details"]["message"] for r in records)
