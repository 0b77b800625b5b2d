"""Video analytics: what the cameras see, turned into events for the OCC and counts for insights.

Per camera, on its sub-stream (or the main stream scaled) at the detect rate: motion on a small
grey picture every frame; the detector only on model-sized regions around motion and around
the objects already tracked; a tracker that gives each object a stable id, a path and a best
snapshot; the camera's rules (zones, lines, loitering, crowds, stopped vehicles, objects left
behind) and its tamper watch; events on the bus (``analytics/events/<camera>``) into the
OCC's alert intake, and counts of people and vehicles per 15 minutes.

Frigate's economy: a still scene costs a decode and a motion check, nothing more.
"""
