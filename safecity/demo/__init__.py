"""The demo: a deterministic Astana-like city, its seeding, and simulated cameras, run by
``safecity demo``."""
