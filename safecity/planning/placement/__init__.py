"""Placement decision support: where a budget of new cameras covers the most weighted crime.

Pure modules take arrays and return arrays or dataclasses: ``projection`` (degrees to local
metres), ``demand`` (crime records weighted by kind, gathered into cells), ``candidates`` (a
regular grid inside the districts, plus the open requests' points), ``coverage`` (who covers
whom within a radius, as a sparse matrix), ``mclp`` (the maximal covering location problem
on spopt's model and pulp's CBC) and ``planning`` (all of it for one city: the optimised plan,
the requests' own plan, coverage before and after). ``store`` reads the tables cut to a
scope, ``service`` answers a query with the API's model, ``api`` is the HTTP edge.
"""
