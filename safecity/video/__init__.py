"""Video registration: ingest, recording, playback, live view, evidence, and the MP4 files
they share."""
