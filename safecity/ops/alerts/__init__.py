"""Alerts: intake from cameras, analytics and webhooks, rules, grouping and camera-health alerts."""
