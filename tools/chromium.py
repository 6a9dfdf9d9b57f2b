"""Headless Chromium through Selenium, from Debian's ``chromium`` and ``chromium-driver`` packages.

Used by the Horizon browser test and the console benchmark. Selenium is told where the driver is, so it never
looks for (or downloads) one of its own.
"""

from __future__ import annotations

import shutil
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing() -> list[str]:
    """The paths of the two programs that are not installed (empty when both are)."""
    return [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]


def start(width: int = 1400, height: int = 1000) -> Any:
    """A new headless Chromium session (a ``selenium.webdriver.Chrome``); the caller quits it.

    Raises RuntimeError naming the missing package when chromium or its driver is not installed. Runs with
    ``--no-sandbox``: the tests run as root, where Chromium's sandbox refuses to start.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if missing():
        raise RuntimeError(f"{', '.join(missing())} missing: apt install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                "--disable-gpu", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
