"""Dispatch: which police unit takes an incident, and the notices that tell it."""
