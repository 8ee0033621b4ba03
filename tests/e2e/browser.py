"""Headless Chromium for the report tests: find it (or skip/fail), render a page, probe it.

A probe script is injected into a copy of the page: it records page errors (``error``,
``unhandledrejection``, ``console.error``) from before any other script runs, and after the
page has loaded writes what plotly drew into a ``<pre id="dlsim-probe">`` element, which
``--dump-dom`` then prints. Network access is cut (``--host-resolver-rules``) so the report
must work offline.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from sim.report import ChromiumNotFound, find_chromium

PROBE_HEAD = """<script>
window.__dlsimErrors = [];
window.addEventListener('error', e => window.__dlsimErrors.push('error: ' + e.message));
window.addEventListener('unhandledrejection',
  e => window.__dlsimErrors.push('unhandled rejection: ' + e.reason));
const __ce = console.error;
console.error = function (...a) { window.__dlsimErrors.push('console.error: ' + a.join(' '));
  __ce.apply(console, a); };
</script>"""

PROBE_TAIL = """<script>
window.addEventListener('load', () => setTimeout(() => {
  const figs = [...document.querySelectorAll('.figure')];
  const drawn = f => !!f.querySelector('.js-plotly-plot .main-svg');
  const out = {
    figures: figs.length,
    drawn: figs.filter(drawn).length,
    not_drawn: figs.filter(f => !drawn(f)).map(f => f.dataset.figure),
    plot_containers: document.querySelectorAll('.plot-container').length,
    main_svg: document.querySelectorAll('.main-svg').length,
    traces: document.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
    plotly: typeof Plotly === 'undefined' ? null : Plotly.version,
    errors: window.__dlsimErrors,
  };
  const pre = document.createElement('pre');
  pre.id = 'dlsim-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 500));
</script>"""


def require_chromium() -> str:
    """The browser; skip without one on a developer machine, fail without one in CI."""
    try:
        return find_chromium()
    except ChromiumNotFound as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Chromium for the report tests ({exc})")
        pytest.skip(f"no Chromium on this machine ({exc}); `make test` installs it")


def chromium_args(browser: str, user_dir: str) -> list[str]:
    return [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={user_dir}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: nothing may be fetched
    ]


def render(page: Path, budget_ms: int = 20000) -> dict[str, Any]:
    """Load ``page`` in headless Chromium and return what the probe saw."""
    browser = require_chromium()
    text = page.read_text(encoding="utf-8")
    text = text.replace("<head>", "<head>" + PROBE_HEAD, 1)
    cut = text.rindex("</body>")
    text = text[:cut] + PROBE_TAIL + text[cut:]
    with tempfile.TemporaryDirectory() as tmp:
        probe_page = Path(tmp) / "page.html"
        probe_page.write_text(text, encoding="utf-8")
        proc = subprocess.run(
            [*chromium_args(browser, str(Path(tmp) / "profile")), "--window-size=1200,900",
             f"--virtual-time-budget={budget_ms}", "--dump-dom", probe_page.as_uri()],
            capture_output=True, text=True, timeout=180, check=False,
        )
    m = re.search(r'<pre id="dlsim-probe">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"probe did not run (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(html.unescape(m[1]))
