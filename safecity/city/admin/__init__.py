"""The city administration API: districts, organizations, police units and sites, for admins.

Every change goes through the city folder's own checks and writing (``safecity.city.folder``)
as a one-entry description, so the API and `safecity city import` accept and refuse exactly
the same things: a new border moves cameras and sites and says so, and whatever would be left
outside every district, or pointing at something deactivated, is named and refused. Nothing
is deleted: a thing that incidents, crime records and the audit log name is deactivated.
Every change is audited in its own transaction.
"""
