"""The audit log: an append-only, hash-chained record of who saw, exported or changed what."""
