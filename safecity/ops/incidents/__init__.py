"""Incidents: opening, the lifecycle, attachments, linked clips and SLA figures."""
