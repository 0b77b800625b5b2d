"""The HTTP API and the console it serves."""
