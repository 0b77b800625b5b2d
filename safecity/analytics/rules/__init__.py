"""A camera's rules: what to watch for in its picture, as data (``definitions``)."""
