from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait


def sign_in(driver: WebDriver, base_url: str, password: str) -> None:
    driver.get(base_url + "/")
    driver.find_element(By.ID, "username").send_keys("ada")
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # the form posts to /login, which shows the form again or redirects to /welcome
    WebDriverWait(driver, 10).until(expected_conditions.url_changes(base_url + "/"))


def test_sign_in_greets_the_user(driver: WebDriver, base_url: str) -> None:
    sign_in(driver, base_url, "lovelace")
    assert driver.current_url.endswith("/welcome")
    assert driver.find_element(By.ID, "greeting").text == "Welcome, ada!"


def test_wrong_password_is_refused(driver: WebDriver, base_url: str) -> None:
    sign_in(driver, base_url, "babbage")
    assert driver.find_element(By.ID, "error").text == "Wrong user name or password."
