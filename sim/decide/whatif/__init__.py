"""The what-if page: a grid of settings simulated as a sweep, shown on one offline page.

- ``sim.decide.whatif.grid``   — the grid file (a sweep file plus words for its levers), size bound;
- ``sim.decide.whatif.series`` — per-minute series of each run, ``DIR/series/<key>.parquet``;
- ``sim.decide.whatif.run``    — the sweep with series kept beside each row;
- ``sim.decide.whatif.page``   — ``DIR/whatif.html`` from a what-if or grid sweep directory;
- ``sim.decide.whatif.labels`` — the page's own messages (English msgids; their German in
  the report's gettext catalogue).

```python
from sim.decide.whatif import load_grid, run_whatif
outcome, page = run_whatif(load_grid("configs/whatif/planning-meeting.yaml"), "out/whatif")
```
"""

from sim.decide.whatif.grid import MAX_PAGE_BYTES, Grid, estimate_page_bytes, load_grid
from sim.decide.whatif.page import page_data, render_page, write_page
from sim.decide.whatif.run import run_whatif

__all__ = [
    "MAX_PAGE_BYTES",
    "Grid",
    "estimate_page_bytes",
    "load_grid",
    "page_data",
    "render_page",
    "run_whatif",
    "write_page",
]
