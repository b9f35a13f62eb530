from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver


def test_greeting_after_sign_in(driver: WebDriver, base_url: str) -> None:
    driver.get(base_url + "/")
    driver.find_element(By.ID, "username").send_keys("ada")
    driver.find_element(By.ID, "password").send_keys("lovelace")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # deliberately wrong: the page says "Welcome, ada!"
    assert driver.find_element(By.ID, "greeting").text == "Hello, Ada"
