"""PNG export of report figures with kaleido ≥ 1.5 driving the system's Chromium.

kaleido 1.x renders in an external Chrome/Chromium. We always hand it an explicit browser
path, so it never searches for (or offers to download) its own copy: ``DLSIM_CHROMIUM`` if set,
else ``BROWSER_PATH`` (choreographer's variable), else Debian's ``/usr/bin/chromium``, else a
``chromium``/``chromium-browser``/``google-chrome`` on ``PATH``. MathJax is switched off (it
would be fetched from a CDN); plotly.js comes from the installed plotly package.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import plotly.graph_objects as go

DEBIAN_CHROMIUM = "/usr/bin/chromium"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "install Debian's chromium (`apt-get install chromium`, as `make test` does) or point "
    "DLSIM_CHROMIUM at a Chrome/Chromium executable"
)


class PngExportUnavailable(RuntimeError):
    """PNG export cannot work here (bad environment: the CLI exits with 2)."""


class ChromiumNotFound(PngExportUnavailable):
    """No Chrome/Chromium to render PNGs with."""


def check_png_export() -> str:
    """The browser to use, after checking that kaleido ≥ 1.5 is installed."""
    try:
        from importlib.metadata import version

        import kaleido  # noqa: F401

        major, minor = (int(x) for x in version("kaleido").split(".")[:2])
    except (ImportError, ValueError) as exc:
        raise PngExportUnavailable(
            f"PNG export needs kaleido >= 1.5 ({exc.__class__.__name__}); "
            "install it with: pip install 'dlsim[report]'"
        ) from None
    if (major, minor) < (1, 5):
        raise PngExportUnavailable(
            f"PNG export needs kaleido >= 1.5, found {major}.{minor}; pip install 'dlsim[report]'"
        )
    return find_chromium()


def _is_exe(path: str | Path) -> bool:
    p = Path(path)
    return p.is_file() and os.access(p, os.X_OK)


def find_chromium() -> str:
    """The Chromium executable kaleido should use, or :class:`ChromiumNotFound`."""
    for var in ("DLSIM_CHROMIUM", "BROWSER_PATH"):
        value = os.environ.get(var)
        if value:
            if _is_exe(value):
                return value
            raise ChromiumNotFound(f"{var}={value}: not an executable file; {INSTALL_HINT}")
    if _is_exe(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumNotFound(f"PNG export needs Chromium, none found; {INSTALL_HINT}")


def export_png(
    figures: Mapping[str, go.Figure], out_dir: str | Path, width: int = 1100, scale: float = 1.0
) -> list[Path]:
    """Write each figure to ``out_dir/<name>.png`` (one browser session for all of them).

    Raises
    ------
    PngExportUnavailable
        Without kaleido ≥ 1.5 or a usable Chromium (checked before anything is written).
    RuntimeError
        If kaleido fails to render a figure.
    """
    browser = check_png_export()
    import kaleido

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".png-", dir=out) as tmp:
        specs = []
        for name, fig in figures.items():
            height = int(fig.layout.height or 450)
            specs.append(
                {
                    "fig": fig,
                    "path": str(Path(tmp) / f"{name}.png"),
                    "opts": {"format": "png", "width": width, "height": height, "scale": scale},
                }
            )
        try:
            kaleido.write_fig_from_object_sync(
                specs, kopts={"path": browser, "mathjax": False}, cancel_on_error=True
            )
        except Exception as exc:  # kaleido/choreographer raise many types; name the browser
            raise RuntimeError(
                f"PNG export with {browser} failed: {exc.__class__.__name__}: {exc}"
            ) from exc
        paths = []
        for name in figures:  # move into place only when every figure rendered
            dst = out / f"{name}.png"
            os.replace(Path(tmp) / f"{name}.png", dst)
            paths.append(dst)
    return paths
