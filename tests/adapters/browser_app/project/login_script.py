"""Sign in to the app at $MAESTRO_BASE_URL (the step's base_url) and check the greeting."""

import os
import sys

from playwright.sync_api import sync_playwright

url = os.environ["MAESTRO_BASE_URL"]
user = sys.argv[1] if len(sys.argv) > 1 else "ada"
with sync_playwright() as p:
    browser = p.chromium.launch()
    page = browser.new_page()
    page.goto(url + "/")
    page.fill("#username", user)
    page.fill("#password", "lovelace")
    page.click("button[type=submit]")
    greeting = page.inner_text("h1", timeout=2000)
    assert greeting == f"Welcome, {user}!", f"unexpected greeting {greeting!r}"
    print("signed in:", greeting)
    browser.close()
