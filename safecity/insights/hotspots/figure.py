"""The hotspot map as a matplotlib figure, for reports: kernel density as grey shading, Gi*
hot and cold cells in the console's colours, district outlines over them. No pyplot: the
figure is an object of its own, safe to draw on a server's threads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from shapely.geometry import shape

from safecity.insights.hotspots.schemas import HotspotClass, HotspotMap
from safecity.insights.hotspots.service import selection_words

CLASS_COLOURS = {
    HotspotClass.HOT_99: "#b2182b",
    HotspotClass.HOT_95: "#ef8a62",
    HotspotClass.HOT_90: "#fddbc7",
    HotspotClass.COLD_90: "#d1e5f0",
    HotspotClass.COLD_95: "#67a9cf",
    HotspotClass.COLD_99: "#2166ac",
}
"""ColorBrewer RdBu, as the console's legend (css/console.css, "Hotspots")."""
CLASS_LABELS = {
    HotspotClass.HOT_99: "Hot spot, 99%",
    HotspotClass.HOT_95: "Hot spot, 95%",
    HotspotClass.HOT_90: "Hot spot, 90%",
    HotspotClass.COLD_90: "Cold spot, 90%",
    HotspotClass.COLD_95: "Cold spot, 95%",
    HotspotClass.COLD_99: "Cold spot, 99%",
}


def hotspot_figure(
    hotspots: HotspotMap,
    outlines: Sequence[tuple[str, dict[str, Any]]],
    *,
    title: str = "Crime hot spots (Getis-Ord Gi*, FDR-corrected)",
    size_inches: tuple[float, float] = (7.0, 6.0),
) -> Figure:
    """``outlines``: (name, GeoJSON geometry) of the districts to draw, usually those the
    analysis covered (``District.name``, ``District.geometry``)."""
    figure = Figure(figsize=size_inches, dpi=100)
    axes = figure.add_subplot()
    rings = [f.geometry.coordinates[0] for f in hotspots.features]
    densities = [f.properties.density for f in hotspots.features]
    top = max(densities, default=0.0) or 1.0
    axes.add_collection(
        PolyCollection(
            rings,
            facecolors=[(0.2, 0.2, 0.2, 0.6 * math.sqrt(d / top)) for d in densities],
            edgecolors="none",
        )
    )
    significant = [f for f in hotspots.features if f.properties.hotspot_class in CLASS_COLOURS]
    axes.add_collection(
        PolyCollection(
            [f.geometry.coordinates[0] for f in significant],
            facecolors=[CLASS_COLOURS[f.properties.hotspot_class] for f in significant],
            edgecolors="none",
        )
    )
    latitudes: list[float] = []
    for name, geometry in outlines:
        outline = shape(geometry)
        for polygon in getattr(outline, "geoms", [outline]):
            xs, ys = polygon.exterior.xy
            axes.plot(xs, ys, color="#333333", linewidth=0.8)
            latitudes.extend(ys)
        point = outline.representative_point()
        axes.annotate(name, (point.x, point.y), ha="center", fontsize=8, color="#333333")
    if latitudes:
        axes.set_aspect(1 / math.cos(math.radians(sum(latitudes) / len(latitudes))))
    axes.autoscale_view()
    axes.set_xticks([])
    axes.set_yticks([])
    shown = [kind for kind in CLASS_COLOURS if hotspots.summary.classes.get(kind)]
    if shown:
        axes.legend(
            handles=[Patch(color=CLASS_COLOURS[k], label=CLASS_LABELS[k]) for k in shown],
            loc="lower right",
            fontsize=7,
        )
    summary = hotspots.summary
    axes.set_title(title, fontsize=11)
    figure.text(
        0.01,
        0.01,
        f"{summary.records:,} crimes ({selection_words(hotspots.selection)}); cells"
        f" {summary.cell_m:g} m; shading: kernel density, radius {summary.bandwidth_m or 0:g} m."
        + (
            f" {summary.without_position:,} without a position left out."
            if summary.without_position
            else ""
        ),
        fontsize=7,
        color="#555555",
    )
    return figure
