"""The city model: districts, organizations, police units, sites and the camera registry."""
