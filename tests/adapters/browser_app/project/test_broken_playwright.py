from playwright.sync_api import Page, expect


def test_greeting_after_sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("lovelace")
    page.get_by_role("button", name="Sign in").click()
    # deliberately wrong: the page says "Welcome, ada!"
    expect(page.get_by_role("heading")).to_have_text("Hello, Ada", timeout=1000)
