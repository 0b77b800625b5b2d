"""MP4 (ISO BMFF) files as boxes: walking them, codec strings, fragments and joining."""
