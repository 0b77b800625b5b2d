"""What every capability uses and nothing of a capability: clocks, backoff, file digests, the media folder."""
