"""Figures of city safety: crime records, aggregates, before/after, hotspots, reports."""
