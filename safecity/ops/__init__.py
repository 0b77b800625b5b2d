"""The OCC (Operations Control Center): alerts, incidents, dispatch to police units, operator
shifts and the live feed the consoles read."""
