"""Reports: a city's or a district's figures for a period, as HTML and as PDF.

A report is a document (document.py) of sections made of blocks; sections.py fills them from
the store, one function per section; html.py and pdf.py draw the same document, charts and maps
drawn once by drawing.py. Adding a section is one builder function and one line in
``SECTIONS`` (building.py).
"""
