"""The browser every test here drives: Debian's Chromium through Playwright, one for the session
(tests/support/browser.py); its fixtures are found by their names."""

from tests.support.browser import browser, chromium_path, open_page  # noqa: F401
