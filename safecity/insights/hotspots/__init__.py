"""Hotspots: where crime concentrates (kernel density, Getis-Ord Gi* with false-discovery-rate
control) and whether it repeats nearby soon after (the Knox test). docs/insights.md, "Hotspots".

``grid`` and ``near_repeat`` are pure (arrays in, arrays and dataclasses out); ``service``
reads the caller's records and returns the pydantic models of ``schemas``; ``api`` is the
HTTP edge and ``figure`` draws the hot cells for a report.
"""
