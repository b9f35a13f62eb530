"""Sign in at $MAESTRO_BASE_URL (the step's base_url) with Selenium and check the greeting."""

import os
import sys

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

url = os.environ["MAESTRO_BASE_URL"]
password = sys.argv[1] if len(sys.argv) > 1 else "lovelace"
driver = webdriver.Chrome()
try:
    driver.get(url + "/")
    driver.find_element(By.ID, "username").send_keys("ada")
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_changes(url + "/"))
    greeting = driver.find_element(By.TAG_NAME, "h1").text
    assert greeting == "Welcome, ada!", f"unexpected greeting {greeting!r}"
    print("signed in:", greeting)
finally:
    driver.quit()
