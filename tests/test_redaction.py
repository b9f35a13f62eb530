"""Redaction: secrets learnt from the environment are masked wherever they appear later."""

from __future__ import annotations

from maestro_cli import redaction


def test_a_password_in_a_url_from_the_environment_is_masked_on_its_own_too() -> None:
    redaction.register_from_environment({"MAESTRO_QUEUE": "redis://worker:queue-pw-5150@127.0.0.1:6379/0", "MAESTRO_REPOSITORY_URL": ""})
    # the server quotes the password without its URL: only its registration can mask it
    assert redaction.scrub("AUTH worker queue-pw-5150 refused") == "AUTH worker **** refused"


def test_a_url_without_a_password_registers_nothing() -> None:
    redaction.register_from_environment({"TWINE_REPOSITORY_URL": "https://upload.example/legacy/"})
    assert redaction.scrub("https://upload.example/legacy/ answered 403") == "https://upload.example/legacy/ answered 403"
