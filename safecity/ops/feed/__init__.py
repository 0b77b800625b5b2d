"""The OCC's live feed of alert and incident changes, pushed to the consoles."""
