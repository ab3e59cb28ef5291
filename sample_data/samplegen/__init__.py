"""Code behind ``generate.py``: see its docstring for the layout."""
