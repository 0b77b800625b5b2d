"""Ingest: pulling each camera's stream, its packets, its health, and simulated cameras."""
