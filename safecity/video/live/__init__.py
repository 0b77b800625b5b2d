"""Live view: a camera's packets as fragmented MP4 over a WebSocket, and snapshots."""
