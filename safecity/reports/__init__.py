"""The report as people get it: its table of contents and its edges (GET /api/insights/report,
``safecity report``).

Why a capability of its own: a report draws on insights (crime figures, hot spots, KPIs) and on
planning (camera requests), and planning sits above insights. The document, the renderers and
insights' sections stay in ``safecity.insights.reports``; planning writes its own section there
(``planning.requests.report_section``, an import downwards); and only here, one layer above
planning, are the two put together (``contents.SECTIONS``). Nothing below imports this package,
so no registry filled at import time is needed and the architecture test keeps every layer's
imports pointing down.
"""
