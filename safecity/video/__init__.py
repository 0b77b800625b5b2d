"""Video: ingest, recording, playback, live view, snapshots."""
