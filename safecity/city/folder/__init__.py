"""A city described in a folder of the files a city already has, imported and exported whole.

``districts.geojson``, ``organizations.csv``, ``police_units.csv``, ``sites.csv`` or
``sites.geojson`` and ``cameras.csv`` (or ``.geojson``): see docs/city-folder.md. Reading and
checking are pure (``tables``, ``description``, ``checks``, ``writing``); ``store`` applies a
checked description to the database in the caller's transaction, so an import is all or
nothing; ``cli`` is ``safecity city import|export``.
"""
