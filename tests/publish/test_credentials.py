"""Which URL, user and password an upload uses, and that secrets are registered for scrubbing."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_cli import redaction
from maestro_cli.errors import ExitCode, InputError, UsageError
from maestro_cli.publish.credentials import RepositoryRequest, resolve_repository

PYPIRC = """\
[distutils]
index-servers = pypi internal

[pypi]
username = __token__
password = pypi-from-pypirc

[internal]
repository = https://nexus.acme.io/repository/pypi-internal/
username = ci
password = from-pypirc
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A user's home with a ~/.pypirc, passed as HOME to the function under test."""
    (tmp_path / ".pypirc").write_text(PYPIRC)
    return tmp_path


def resolve(home: Path, request: RepositoryRequest, **env: str):
    return resolve_repository(request, environ={"HOME": str(home), **env})


def test_flags_beat_twine_variables_which_beat_pypirc(home):
    request = RepositoryRequest(repository="internal", username="flag-user", password="flag-pw")
    repo = resolve(home, request, TWINE_USERNAME="twine-user", TWINE_PASSWORD="twine-pw")
    assert (repo.upload_url, repo.username, repo.password) == ("https://nexus.acme.io/repository/pypi-internal/", "flag-user", "flag-pw")

    repo = resolve(home, RepositoryRequest(repository="internal"), TWINE_USERNAME="twine-user", TWINE_PASSWORD="twine-pw")
    assert (repo.username, repo.password) == ("twine-user", "twine-pw")

    repo = resolve(home, RepositoryRequest(repository="internal"))
    assert (repo.username, repo.password) == ("ci", "from-pypirc")
    assert repo.index_urls == ["https://nexus.acme.io/repository/pypi-internal/simple/"]


def test_twine_repository_url_is_honoured_and_never_gets_pypi_credentials(home):
    repo = resolve(home, RepositoryRequest(), TWINE_REPOSITORY_URL="https://devpi.acme.io/ci/prod/")
    assert repo.upload_url == "https://devpi.acme.io/ci/prod/"
    assert repo.password is None  # [pypi]'s token is for PyPI only


def test_default_is_pypi_with_its_pypirc_credentials(home):
    repo = resolve(home, RepositoryRequest())
    assert (repo.upload_url, repo.username, repo.password) == ("https://upload.pypi.org/legacy/", "__token__", "pypi-from-pypirc")
    assert redaction.scrub("pypi-from-pypirc") == redaction.MASK


def test_a_token_means_user_token(home):
    repo = resolve(home, RepositoryRequest(repository_url="https://upload.pypi.org/legacy/", token="pypi-AgEI-secret"))
    assert (repo.username, repo.password) == ("__token__", "pypi-AgEI-secret")
    assert "pypi-AgEI-secret" not in redaction.scrub("token pypi-AgEI-secret")


def test_credentials_in_the_url_are_taken_out_of_it(home):
    repo = resolve(home, RepositoryRequest(repository_url="https://bob:in%40url@nexus.acme.io/repository/x"))
    assert repo.upload_url == "https://nexus.acme.io/repository/x/"
    assert (repo.username, repo.password) == ("bob", "in@url")


def test_an_unknown_repository_name_suggests_the_closest(home):
    with pytest.raises(InputError, match=r"repository 'internl' is not in .*\.pypirc \(did you mean 'internal'\?\)"):
        resolve(home, RepositoryRequest(repository="internl"))


def test_plain_http_is_refused_except_to_this_machine(home):
    with pytest.raises(UsageError) as refused:
        resolve(home, RepositoryRequest(repository_url="http://nexus.acme.io/repository/x/"))
    assert refused.value.exit_code == ExitCode.BAD_INPUT
    allowed = resolve(home, RepositoryRequest(repository_url="http://nexus.acme.io/repository/x/", allow_insecure=True))
    assert allowed.upload_url.startswith("http://nexus")
    assert resolve(home, RepositoryRequest(repository_url="http://localhost:8080")).upload_url == "http://localhost:8080/"


def test_the_prompt_is_asked_only_for_what_is_missing(home):
    asked: list[tuple[str, bool]] = []

    def prompt(label: str, secret: bool) -> str:
        asked.append((label, secret))
        return "typed-pw" if secret else "typed-user"

    repo = resolve_repository(
        RepositoryRequest(repository_url="https://idx.acme.io/legacy/"), environ={"HOME": str(home)}, prompt=prompt
    )
    assert (repo.username, repo.password) == ("typed-user", "typed-pw")
    assert [secret for _label, secret in asked] == [False, True]
    assert redaction.scrub("typed-pw") == redaction.MASK


def test_the_keyring_gives_the_password_when_nothing_else_does(home):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        stored = {("https://idx.acme.io/legacy/", "ci"): "from-keyring-pw"}

        def get_password(self, service: str, username: str) -> str | None:
            return self.stored.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.stored[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.stored.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        repo = resolve(home, RepositoryRequest(repository_url="https://idx.acme.io/legacy/", username="ci"))
    finally:
        keyring.set_keyring(previous)
    assert repo.password == "from-keyring-pw"
    assert redaction.scrub("from-keyring-pw") == redaction.MASK
