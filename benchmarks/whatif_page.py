"""Size and response time of a what-if page in headless Chromium (Playwright, offline).

    .venv/bin/python -m benchmarks.whatif_page out/whatif/whatif.html [--moves 60]

A move sets one control to another value (a random lever and value, seeded) and is timed in
the page from the ``input`` event until both charts have emitted ``plotly_afterplot`` and the
key-figure cards show the new setting. Not a test: it asserts nothing (shared, noisy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

MOVE = """async ([j, i]) => {
  const charts = [document.getElementById('chart-capacity'),
                  document.getElementById('chart-failures')];
  const input = document.getElementById('lever-' + j);
  const drawn = charts.map(c => new Promise(res => c.once('plotly_afterplot', res)));
  const t0 = performance.now();
  input.value = String(i);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  const dom = performance.now() - t0;   // the cards and verdict are updated synchronously
  await Promise.all(drawn);
  return {dom_ms: dom, total_ms: performance.now() - t0};
}"""


def measure(page_path: Path, moves: int = 60, seed: int = 1) -> dict[str, float | int]:
    import random

    rng = random.Random(seed)
    chromium = os.environ.get("DLSIM_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                   else r.abort())
        page.goto(page_path.resolve().as_uri())
        page.wait_for_function("document.body.dataset.drawn === '1'", timeout=60_000)
        shape = page.evaluate("() => whatif.data.shape")
        times, doms = [], []
        state = [0] * len(shape)
        for _ in range(moves):
            j = rng.randrange(len(shape))
            choices = [i for i in range(shape[j]) if i != state[j]] or [state[j]]
            i = rng.choice(choices)
            state[j] = i
            r = page.evaluate(MOVE, [j, i])
            times.append(r["total_ms"])
            doms.append(r["dom_ms"])
        browser.close()
    times.sort()
    return {
        "page_bytes": page_path.stat().st_size,
        "settings": int(__import__("math").prod(shape)),
        "moves": moves,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
        "max_ms": round(times[-1], 1),
        "dom_median_ms": round(statistics.median(doms), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page", type=Path)
    ap.add_argument("--moves", type=int, default=60)
    a = ap.parse_args()
    print(json.dumps(measure(a.page, a.moves), indent=2))


if __name__ == "__main__":
    main()
