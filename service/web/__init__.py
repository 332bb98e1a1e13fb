"""The operator's web console (``vaxmail web``): see ``app.py``."""
