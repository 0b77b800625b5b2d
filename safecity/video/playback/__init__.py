"""Recorded video played back: the timeline, HLS playlists and MP4 clips."""
