#!/usr/bin/env python3
"""A person at a browser, for awsmfa's console sign-in tests: opens the sign-in URL (given
as BROWSER gives it, the last argument), fills the emulator's sign-in form (user name,
password, and the current code of the user's MFA device) and follows the answer as a browser
does: the redirect to awsmfa's loopback callback, or (cross-device) the confirmation page,
whose code it writes to SIGNIN_CODE_OUT for the test to paste. A real HTTP client, or with
SIGNIN_BROWSER=chromium a real headless Chromium (selenium and Debian's chromedriver).

Environment: SIGNIN_USER, SIGNIN_PASSWORD, SIGNIN_SEED (optional: base32 TOTP seed),
SIGNIN_CODE_OUT (cross-device), SIGNIN_LOG (where to say what happened)."""

import html.parser
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "emulator"))
from totp import code_at_step, current_step  # noqa: E402


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def log(text):
    path = os.environ.get("SIGNIN_LOG")
    if path:
        with open(path, "a") as f:
            f.write(text + "\n")


def in_chromium(url):
    """The same person in Debian's headless Chromium (SIGNIN_BROWSER=chromium): types into
    the page's fields, clicks Sign in, and waits for the page awsmfa's callback shows."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--proxy-server=direct://", "--proxy-bypass-list=*"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        browser.set_page_load_timeout(30)
        browser.get(url)
        browser.find_element(By.ID, "username").send_keys(os.environ["SIGNIN_USER"])
        browser.find_element(By.ID, "password").send_keys(os.environ["SIGNIN_PASSWORD"])
        seed = os.environ.get("SIGNIN_SEED")
        if seed:
            browser.find_element(By.ID, "mfa_code").send_keys(code_at_step(seed, current_step()))
        browser.find_element(By.ID, "signin").click()
        WebDriverWait(browser, 30).until(lambda b: "/oauth/callback" in b.current_url)
        text = browser.find_element(By.TAG_NAME, "body").text
        log(f"chromium shows: {text}")
        return 0 if "Signed in" in text else 1
    finally:
        browser.quit()


def main():
    url = sys.argv[-1]
    if os.environ.get("SIGNIN_BROWSER") == "chromium":
        return in_chromium(url)
    opener = urllib.request.build_opener(NoRedirect)
    page = opener.open(url, timeout=30).read().decode()
    form = Form()
    form.feed(page)
    fields = dict(form.fields)
    fields["username"] = os.environ["SIGNIN_USER"]
    fields["password"] = os.environ["SIGNIN_PASSWORD"]
    seed = os.environ.get("SIGNIN_SEED")
    if seed:
        fields["mfa_code"] = code_at_step(seed, current_step())
    fields["action"] = "signin"
    target = urllib.parse.urljoin(url, form.action)
    data = urllib.parse.urlencode(fields).encode()
    try:
        answer = opener.open(urllib.request.Request(target, data=data), timeout=30)
        log(f"no redirect: {answer.status} {answer.read().decode()[:300]}")
        return 1
    except urllib.error.HTTPError as e:
        if e.code not in (302, 303):
            log(f"sign-in answered {e.code}")
            return 1
        location = e.headers["Location"]
    log(f"redirected to {urllib.parse.urlsplit(location).path}")
    deadline = time.monotonic() + 60
    while True:
        try:
            page = opener.open(location, timeout=30).read().decode()
            break
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # the callback is about to listen: the pace of the tries
    found = re.search(r'id="verification-code">([^<]+)<', page)
    if found and os.environ.get("SIGNIN_CODE_OUT"):
        with open(os.environ["SIGNIN_CODE_OUT"] + ".tmp", "w") as f:
            f.write(found.group(1))
        os.rename(os.environ["SIGNIN_CODE_OUT"] + ".tmp", os.environ["SIGNIN_CODE_OUT"])
    log("done")
    return 0


sys.exit(main())
