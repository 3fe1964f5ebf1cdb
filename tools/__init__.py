"""Developer tools run from scripts/ (not shipped, not imported by Baton itself)."""
