"""A headless Chromium (tools/chromium.py) driven through Selenium, with the few
moves Horizon's pages need: Django modals and forms, Horizon's themable selects, Angular wizards and their
transfer tables, row action menus, success messages. Every step can leave a screenshot.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from tests import fixtures
from tools import chromium

T = TypeVar("T")


class Browser:
    """One Chromium session against ``base_url``, saving PNGs of named steps under ``shots``.

    Raises ``pytest.fail`` when chromium or its driver is not installed (they are system packages that
    run_tests.sh installs; a missing one is a broken machine, not a reason to skip).
    """

    def __init__(self, base_url: str, shots: str, timeout: float = 60) -> None:
        if chromium.missing():
            pytest.fail(f"{', '.join(chromium.missing())} missing: apt install chromium chromium-driver")
        self.driver = chromium.start()
        self.driver.implicitly_wait(0)
        self.base_url = base_url.rstrip("/")
        self.shots = shots
        self.timeout = timeout
        self.saved: list[str] = []
        os.makedirs(shots, exist_ok=True)

    def close(self) -> None:
        self.driver.quit()

    def go(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        self.until(lambda: self.driver.execute_script("return document.readyState") == "complete", "the page")

    def shot(self, name: str) -> str:
        """Save a screenshot of the window as ``<shots>/<nn>-<name>.png``; its path."""
        path = os.path.join(self.shots, f"{len(self.saved) + 1:02d}-{name}.png")
        self.driver.get_screenshot_as_file(path)
        self.saved.append(path)
        return path

    def until(self, probe: Callable[[], T], what: str, timeout: float | None = None, interval: float = 0.3) -> T:
        """The first truthy value of ``probe()`` (``fixtures.wait_until``); Selenium's element errors count as
        not yet.

        Raises AssertionError naming ``what`` (with the page's URL and the last such error) after ``timeout``.
        """
        from selenium.common import exceptions

        last: list[Exception] = []

        def attempt() -> T | None:
            try:
                return probe()
            except (exceptions.NoSuchElementException, exceptions.StaleElementReferenceException,
                    exceptions.ElementNotInteractableException, exceptions.ElementClickInterceptedException) as exc:
                last[:] = [exc]
                return None

        def described() -> str:
            error = f" ({type(last[0]).__name__}: {str(last[0]).splitlines()[0]})" if last else ""
            return f"{what} on {self.driver.current_url}{error}"

        return fixtures.wait_until(attempt, timeout=timeout or self.timeout,  # type: ignore[no-any-return]
                                   interval=interval, what=described)

    def find(self, css: str, root: Any = None, visible: bool = True) -> Any:
        """The first element matching ``css`` (under ``root``), waiting until it is displayed."""
        from selenium.webdriver.common.by import By

        def probe() -> Any:
            for element in (root or self.driver).find_elements(By.CSS_SELECTOR, css):
                if not visible or element.is_displayed():
                    return element
            return None

        return self.until(probe, f"'{css}'")

    def xpath(self, path: str, root: Any = None) -> Any:
        """The first displayed element at ``path`` (under ``root``), waiting for it."""
        from selenium.webdriver.common.by import By

        def probe() -> Any:
            return next((e for e in (root or self.driver).find_elements(By.XPATH, path) if e.is_displayed()), None)

        return self.until(probe, f"'{path}'")

    def click(self, element_or_css: Any, root: Any = None) -> None:
        element = self.find(element_or_css, root) if isinstance(element_or_css, str) else element_or_css
        self.until(lambda: element.click() or True, "a click to land")

    def type(self, css: str, text: str, root: Any = None) -> None:
        element = self.find(css, root)
        element.clear()
        element.send_keys(text)

    def button(self, label: str, root: Any = None) -> None:
        """Click the displayed button or link whose text is ``label``."""
        self.click(self.xpath(f".//*[(self::button or self::a) and normalize-space()='{label}']", root))

    def themable_select(self, field_id: str, label: str, root: Any = None) -> None:
        """Pick ``label`` in Horizon's themable select for the form field ``field_id`` (a dropdown button
        standing in for the hidden <select>)."""
        dropdown = self.xpath(f".//*[@for='{field_id}']/following-sibling::div", root)
        self.click(dropdown.find_element("css selector", ".dropdown-toggle"))
        self.click(self.xpath(f".//ul[contains(@class,'dropdown-menu')]//*[contains(normalize-space(), '{label}')]",
                              dropdown))

    def transfer(self, table: Any, label: str) -> None:
        """Move the row named ``label`` of an Angular transfer table into the allocated list (if not yet)."""
        from selenium.webdriver.common.by import By

        row = f".//*[normalize-space(text())='{label}']/ancestor::tr"

        def probe() -> bool:
            ups = [b for b in table.find_elements(By.XPATH, f"{row}//*[contains(@class,'fa-arrow-up')]")
                   if b.is_displayed()]
            if ups:
                ups[0].click()
                return False  # look again: allocated rows show the other arrow
            return any(b.is_displayed() for b in
                       table.find_elements(By.XPATH, f"{row}//*[contains(@class,'fa-arrow-down')]"))

        self.until(probe, f"'{label}' allocated")

    def messages(self) -> list[str]:
        """The texts of Horizon's alert messages now shown (success and error), dismissing them."""
        from selenium.webdriver.common.by import By

        texts = []
        for alert in self.driver.find_elements(By.CSS_SELECTOR, "div.messages div.alert"):
            if alert.is_displayed():
                texts.append(alert.text.replace("\n", " ").replace("×", "").strip())
        return texts

    def expect_message(self, fragment: str) -> str:
        """Wait for a Horizon message containing ``fragment``; it. An error message first fails at once."""

        def probe() -> str | None:
            found = self.messages()
            errors = [m for m in found if m.startswith(("Error", "Danger", "Warning"))]
            assert not errors, f"Horizon said {errors} (waiting for {fragment!r})"
            return next((m for m in found if fragment in m), None)

        return self.until(probe, f"a message with {fragment!r}")

    def row(self, table_id: str, display: str) -> Any:
        """The row of Horizon's Django table ``table_id`` showing ``display``."""
        return self.find(f"table#{table_id} tr[data-display='{display}']")

    def row_action(self, table_id: str, display: str, label: str) -> None:
        """Run a row's action: its primary button, else the entry ``label`` of its More menu."""
        from selenium.webdriver.common.by import By

        actions = self.row(table_id, display).find_element(By.CSS_SELECTOR, "td.actions_column")
        primary = [b for b in actions.find_elements(By.XPATH, f".//*[normalize-space()='{label}']")
                   if b.is_displayed()]
        if primary:
            self.click(primary[0])
            return
        self.click(actions.find_element(By.CSS_SELECTOR, ".dropdown-toggle"))
        self.click(self.xpath(f".//ul[contains(@class,'dropdown-menu')]//*[normalize-space()='{label}']", actions))

    def confirm(self) -> None:
        """Accept Horizon's confirmation modal (its danger button)."""
        self.click(".modal-dialog .btn-danger")
