"""Where the next cameras go: installation requests and placement decision support."""
