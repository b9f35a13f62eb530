import re

from playwright.sync_api import Page, expect


def test_sign_in_greets_the_user(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("lovelace")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/welcome$"))
    expect(page.get_by_role("heading")).to_have_text("Welcome, ada!")


def test_wrong_password_is_refused(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("babbage")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
