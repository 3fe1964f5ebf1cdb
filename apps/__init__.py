"""Baton's Django apps. Each keeps its writes in services.py and its reads in selectors.py."""
