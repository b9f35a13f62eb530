from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from test_login_selenium import sign_in


def test_greeting_after_sign_in(driver: WebDriver, base_url: str) -> None:
    sign_in(driver, base_url, "lovelace")
    # deliberately wrong: the page says "Welcome, ada!"
    assert driver.find_element(By.ID, "greeting").text == "Hello, Ada"
