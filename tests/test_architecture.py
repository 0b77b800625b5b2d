"""The layers of docs/architecture.md, checked: every import of a safecity module points down.

Low to high: the foundations (core, store, bus, settings, bounds, private_files, logs); audit;
the city registry; auth; the edges' toolkit (safecity.api's dependencies, errors, paging, rate
limits, and cli_support), which only HTTP and CLI modules use; video; analytics (which reads
video and feeds the OCC through the bus); the OCC (ops); insights (figures read from what the
layers below record); planning (requests and placement, which read the figures); reports (the report's table of
contents and its edges, which put insights' and planning's sections together); city administration (the
city folder and the admin API, which touch everything a city holds). At the top the wiring: the app, the CLI, the
process, the demo, backup, and the schema aggregate that Alembic reads. A capability's HTTP
and CLI modules (its edges) may use any capability below the wiring, but not another
capability's edges: what two routers share lives in a schema or service module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import safecity

PACKAGE = Path(safecity.__file__).parent
FOUNDATIONS = {"core", "store", "bus", "settings", "bounds", "private_files", "logs"}
LAYERS = [
    "audit",
    "city",
    "auth",
    "edge-toolkit",
    "video",
    "analytics",
    "ops",
    "insights",
    "planning",
    "reports",
    "city-admin",
]
WIRING = 99
EDGE_NAMES = {"api", "cli", "schemas", "scoped"}
EDGE_SUFFIXES = ("_api", "_cli", "_http")


def _part(module: str) -> str:
    parts = module.split(".")
    top = parts[1]
    below = parts[2] if len(parts) > 2 else ""
    if top == "store" and below in ("models", "migrations"):
        return "wiring"
    if top == "api":
        return "wiring" if below in ("", "app", "system", "docs") else "edge-toolkit"
    if top in ("cli_support", "cli_options"):
        return "edge-toolkit"
    if module == "safecity.demo.data_folder":  # where the demo keeps its data; settings only
        return "core"
    if top == "city" and below in ("folder", "admin"):
        return "city-admin"
    return top


def _level(module: str) -> int:
    part = _part(module)
    if part in FOUNDATIONS:
        return 0
    if part in LAYERS:
        return 1 + LAYERS.index(part)
    return WIRING


def _is_edge(module: str) -> bool:
    leaf = module.rsplit(".", 1)[-1]
    return leaf in EDGE_NAMES or leaf.endswith(EDGE_SUFFIXES)


def _imports() -> list[tuple[str, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [_imported(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [(module, name) for name in names if name.startswith("safecity.")]
    return found


def _imported(module: str, name: str) -> str:
    """``from a.b import c``: the module a.b.c when c is one, else a.b."""
    inside = PACKAGE.parent.joinpath(*module.split("."), name)
    return f"{module}.{name}" if inside.with_suffix(".py").exists() or inside.is_dir() else module


def _upward(module: str, target: str) -> bool:
    if _part(module) == _part(target):
        return False
    mine, theirs = _level(module), _level(target)
    if mine == WIRING:
        return False
    if theirs == WIRING:
        return True
    if _is_edge(module):
        return _is_edge(target) and _part(target) != "edge-toolkit"
    return theirs > mine or _part(target) == "edge-toolkit"


def test_the_module_walk_sees_the_whole_package() -> None:
    imports = _imports()
    assert len({module for module, _ in imports}) > 100
    assert ("safecity.ops.incidents.service", "safecity.ops.models") in imports


def test_every_import_points_down_the_layers() -> None:
    upward = sorted(
        f"{module} -> {target}" for module, target in _imports() if _upward(module, target)
    )
    assert upward == [], "imports against docs/architecture.md's layers:\n" + "\n".join(upward)


def test_an_import_up_the_layers_is_caught() -> None:
    assert _upward("safecity.video.recording.recorder", "safecity.ops.models")
    assert _upward("safecity.core.backoff", "safecity.city.models")
    assert _upward("safecity.video.live.api", "safecity.city.api")
    assert not _upward("safecity.ops.incidents.clips", "safecity.video.playback.clips")
    assert not _upward("safecity.city.api", "safecity.video.models")
    assert _upward("safecity.insights.reports.building", "safecity.planning.requests.models")
    assert _upward("safecity.planning.requests.report_section", "safecity.reports.contents")
    assert not _upward("safecity.reports.contents", "safecity.planning.requests.report_section")
