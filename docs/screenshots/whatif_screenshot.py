"""Regenerate docs/screenshots/whatif.png from the example what-if page (`make whatif`).

The planner's question of issue 16 set on the page: schools stagger by 10 minutes, the node
count at the smallest value the page names under the slider, pinned against the fewest nodes.
Playwright drives Debian's Chromium (never a downloaded browser), offline.

    .venv/bin/python docs/screenshots/whatif_screenshot.py [out/whatif/whatif.html] [--lang de]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def set_lever(page: object, j: int, i: int) -> None:
    n = int(page.evaluate("document.body.dataset.drawn"))  # type: ignore[attr-defined]
    loc = page.locator(f"#lever-{j}")  # type: ignore[attr-defined]
    if loc.evaluate("e => e.tagName") == "SELECT":
        loc.select_option(str(i))
    else:
        loc.fill(str(i))
    page.wait_for_function(f"Number(document.body.dataset.drawn) > {n}")  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page", nargs="?", type=Path, default=REPO / "out" / "whatif" / "whatif.html")
    ap.add_argument("--out", type=Path, default=HERE / "whatif.png")
    a = ap.parse_args()
    chromium = os.environ.get("DLSIM_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as pw, tempfile.TemporaryDirectory():
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                   else r.abort())
        page.goto(a.page.resolve().as_uri())
        page.wait_for_function("document.body.dataset.drawn === '1'", timeout=120_000)
        levers = page.evaluate("() => whatif.data.levers.map(l => l.path)")
        stagger = next(j for j, p in enumerate(levers) if p.endswith("slot_min"))
        nodes = next(j for j, p in enumerate(levers) if p.endswith(".nodes"))
        set_lever(page, stagger, 1)  # 10 minutes apart
        page.click("#pin")  # the fewest nodes, pinned
        page.wait_for_function("document.getElementById('verdict-pinned').children.length > 0")
        answer = page.locator(f"#lever-{nodes} ~ .hint .answer")
        needed = answer.inner_text() if answer.count() else ""
        labels = page.evaluate(f"() => whatif.data.levers[{nodes}].value_labels")
        pick = next((i for i, t in enumerate(labels) if t in needed), len(labels) - 1)
        set_lever(page, nodes, pick)
        page.screenshot(path=str(a.out), full_page=True)
        print(f"{a.out}: {needed or 'no node count meets the target'}")
        browser.close()


if __name__ == "__main__":
    main()
