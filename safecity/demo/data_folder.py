"""The demo's data folder and the city it holds, for every command that may be pointed at it.

Kept apart from ``safecity.demo.runner`` (which loads the video pipeline and the web app), so
that reading the settings does not cost a command those imports.
"""

from __future__ import annotations

from pathlib import Path

from safecity.settings import Settings

DEMO_DATA_DIR = Path(".safecity-demo")
DEMO_CITY_NAME = "Astana (demo)"
DEMO_TIMEZONE = "Asia/Almaty"
"""Astana keeps UTC+5 all year (the demo's crime records are generated in that time)."""
MARKER_FILE = ".safecity-demo"
"""Written into a data folder the demo made, so that --reset wipes only folders it owns."""


def made_by_the_demo(data_dir: Path) -> bool:
    return (data_dir / MARKER_FILE).exists()


def with_demo_city(settings: Settings) -> Settings:
    """The demo city's name and time zone, unless the user chose them (in a file, the
    environment or arguments). The demo serves its data as this city, so every command on that
    data must too: a time without a zone, or the city an evidence manifest names, would
    otherwise differ between the console and the command line."""
    chosen = settings.model_fields_set
    changes: dict[str, object] = {}
    if "city_name" not in chosen:
        changes["city_name"] = DEMO_CITY_NAME
    if "timezone" not in chosen:
        changes["timezone"] = DEMO_TIMEZONE
    return settings.model_copy(update=changes)
