"""The console's stylesheet is one file that every screen appends to: a block left open by a
merge nests every rule after it (Chromium reads CSS nesting), and those screens lose their
styles without any error. Checked here without a browser."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[1] / "safecity" / "web" / "static" / "css" / "console.css"


def test_every_block_of_the_stylesheet_is_closed() -> None:
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    open_at: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            if char == "{":
                open_at.append(number)
            elif char == "}":
                assert open_at, f"console.css line {number} closes a block that is not open"
                open_at.pop()
    assert not open_at, f"console.css leaves blocks open (opened on lines {open_at})"
