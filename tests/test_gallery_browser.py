"""The gallery in headless Chromium: it opens, a picture is saved, the new picture appears without a
reload, and screenshots of the gallery and the take-home page are written (``demo/ops/browser_check.py``).
Skipped, with a line that says so, where Debian's ``chromium`` is not installed."""

from __future__ import annotations

import asyncio

import pytest

from demo.ops.browser_check import check, find_browser


def test_a_new_save_appears_in_the_gallery_in_headless_chromium(tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("browser test skipped: Chromium is not installed (apt-get install chromium)")
    report = asyncio.run(check(browser, tmp_path, pictures=4))
    assert report["pictures_shown"] == 5 and report["station_shown_as_text"]  # a hostile station name is only text
    for shot in (report["screenshot"], report["picture_page"]):
        with open(shot, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
