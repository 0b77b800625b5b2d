"""The programme's key figures for a period: clearance, video used, camera uptime and recording
completeness, operator response, incidents per district, and flows of people and vehicles.

``figures`` holds the arithmetic (pure), ``sql`` the few expressions SQLite and PostgreSQL
spell differently, ``report`` the answer's shape, ``store`` the queries (aggregated in the
database) and ``api`` the endpoint. Other capabilities call :func:`store.city_kpis`.
"""
