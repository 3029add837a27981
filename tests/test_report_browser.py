"""The report in a real browser: headless Chromium (Debian's ``chromium``) loads every figure,
nothing overflows at 1280 px, and the screenshot shows each figure where the layout puts it.

A probe script is written into a copy of the page (the report itself has no script): on
``load`` it records each image's natural size and box, the document's scroll width and the
right-most edge of any element into a hidden ``<pre>``, which ``--dump-dom`` returns.

Chromium missing: the test skips with a loud reason, except where ``ANTIALIAS_REQUIRE_BROWSER``
is set (``.ci/run`` sets it after installing the browser), where it fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from antialias.report import write_report
from tests._report_fixture import segmentation_result, volume_result

WIDTH = 1280
PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (im) {
    var r = im.getBoundingClientRect();
    return {id: im.parentNode.id, complete: im.complete, natural: [im.naturalWidth,
            im.naturalHeight], box: [r.left, r.top + window.scrollY, r.width, r.height]};
  });
  var right = 0;
  document.querySelectorAll("body *").forEach(function (el) {
    right = Math.max(right, el.getBoundingClientRect().right);
  });
  var main = document.querySelector("main").getBoundingClientRect();
  var probe = document.createElement("pre");
  probe.id = "probe";
  probe.hidden = true;
  probe.textContent = JSON.stringify({images: images, right: right, innerWidth: innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight, main: [main.left, main.right]});
  document.body.appendChild(probe);
});
</script>"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = (
        "!!! chromium is not installed, so the report was NOT checked in a browser: "
        "`apt-get update && apt-get install -y chromium` (.ci/run does this) !!!"
    )
    if os.environ.get("ANTIALIAS_REQUIRE_BROWSER"):
        pytest.fail(reason)
    print(reason)
    pytest.skip(reason)


def _run(browser: str, profile: Path, url: str, *extra: str) -> str:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        *extra,
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _blocks(image: np.ndarray, n: int = 12) -> np.ndarray:
    """Mean colour of an ``n x n`` grid of blocks (compares two scalings of one picture)."""
    rows = np.array_split(np.arange(image.shape[0]), n)
    cols = np.array_split(np.arange(image.shape[1]), n)
    return np.asarray([[image[np.ix_(r, c)].mean(axis=(0, 1)) for c in cols] for r in rows])


@pytest.mark.parametrize("build", [segmentation_result, volume_result], ids=["images", "volumes"])
def test_report_renders_in_chromium(tmp_path: Path, build) -> None:
    browser = _chromium()
    from matplotlib.image import imread

    page = write_report(build(tmp_path), tmp_path / "report")
    probed = page.with_name("probed.html")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    profile = tmp_path / "profile"
    url = probed.resolve().as_uri()
    dom = _run(browser, profile, url, "--dump-dom", f"--window-size={WIDTH},900")
    found = re.search(r'<pre id="probe" hidden="">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: " + dom[-500:]
    probe = json.loads(html.unescape(found.group(1)))

    figures = sorted(p.name[len("report_") : -4] for p in page.parent.glob("report_*.png"))
    assert sorted(im["id"][len("fig-") :] for im in probe["images"]) == figures
    for im in probe["images"]:
        png = imread(page.parent / f"report_{im['id'][len('fig-') :]}.png")
        assert im["complete"] and im["natural"] == [png.shape[1], png.shape[0]], im
        assert 0 < im["box"][2] <= probe["main"][1] - probe["main"][0], im
    assert probe["innerWidth"] == WIDTH
    assert probe["scrollWidth"] <= WIDTH, probe  # no horizontal scroll bar at 1280 px
    assert probe["right"] <= WIDTH, probe  # and no element reaches past the window

    height = int(probe["scrollHeight"])
    shot_path = tmp_path / "shot.png"
    _run(browser, profile, url, f"--screenshot={shot_path}", f"--window-size={WIDTH},{height}")
    shot = imread(shot_path)[..., :3]
    assert shot.shape[1] == WIDTH and shot.shape[0] >= height - 1
    # The screenshot shows each figure in its layout box (same picture, browser-scaled) ...
    for im in probe["images"]:
        left, top, width, h = (int(round(v)) for v in im["box"])
        crop = shot[top + 2 : top + h - 2, left + 2 : left + width - 2]
        png = imread(page.parent / f"report_{im['id'][len('fig-') :]}.png")[..., :3]
        png = png[2 * png.shape[0] // h : -2 * png.shape[0] // h or None]
        png = png[:, 2 * png.shape[1] // width : -2 * png.shape[1] // width or None]
        diff = np.abs(_blocks(crop) - _blocks(png)).max()
        assert crop.std() > 0.05 and diff < 0.08, (im["id"], diff)
    # ... and nothing is drawn outside the page's column (the margins are plain background).
    left, right = int(probe["main"][0]), int(np.ceil(probe["main"][1]))
    margins = [shot[:, : max(left - 1, 0)], shot[:, right + 1 :]]
    for margin in margins:
        if margin.size:
            assert np.ptp(margin) < 1e-6, "something is drawn outside the page's column"
