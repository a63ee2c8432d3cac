"""Issue 11's budget for the storefront widget: its JavaScript and CSS together at most 12 KB
gzipped (bench/widget.py prints the figures; this keeps every commit within them)."""

import gzip
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "extensions" / "loyalty-widget" / "assets"
BUDGET_BYTES = 12 * 1024


def gzipped(path: Path) -> int:
    # Level 9, as bench/widget.py measures and a CDN serves.
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def test_the_widgets_script_and_styles_fit_in_12_kb_gzipped():
    files = sorted(ASSETS.iterdir())

    # Every asset counts: the block loads only these two, and nothing else may hide here.
    assert [path.name for path in files] == ["loyalty-widget.css", "loyalty-widget.js"]
    total = sum(gzipped(path) for path in files)
    assert 1024 < total <= BUDGET_BYTES, f"{total} bytes gzipped"
