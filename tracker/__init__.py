"""Hair-density progress tracker: measurement engine, records, progress and reports.

Nothing in this package imports Streamlit; the app in ``app.py`` and ``pages/`` is a thin
layer over it.
"""
