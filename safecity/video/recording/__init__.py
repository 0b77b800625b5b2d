"""Video registration: the recorder, the segment index, recovery, retention and legal holds."""
