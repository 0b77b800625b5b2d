"""Operator shifts, handovers, and SLA escalations to the shift's supervisor."""
