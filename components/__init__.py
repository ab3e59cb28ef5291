"""Reusable Streamlit widgets; the only place caching lives is `components/state.py`."""
