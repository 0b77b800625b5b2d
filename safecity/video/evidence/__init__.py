"""Evidence: signed packages of recorded video, their keys, export and verification."""
