"""ArtDash: the editorial side of artwork personalization.

The package is usable without Streamlit (from the CLI, a notebook or a test); only
``artdash.ui`` imports streamlit.
"""

__version__ = "0.1.0"
