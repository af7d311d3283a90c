"""Streamlit-only helpers: cached resources, session-state keys, shared widgets.

The only part of artdash that imports streamlit.
"""
