"""Counting what a person does in a browser walk: every click, fill and select goes through
Interactions, so a test can say how many it took (and keep that number small)."""
from playwright.sync_api import Locator


class Interactions:
    def __init__(self):
        self.count = 0

    def click(self, locator: Locator):
        self.count += 1
        locator.click()

    def fill(self, locator: Locator, value: str):
        self.count += 1
        locator.fill(value)

    def select(self, locator: Locator, value: str):
        self.count += 1
        locator.select_option(value)
