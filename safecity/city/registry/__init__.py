"""The camera registry: its file (columns, parsing, checking, writing), storing it, and the CLI."""
