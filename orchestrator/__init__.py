"""Baton's engine: BPMN parsing, validation, token semantics and the script sandbox.

Pure Python: nothing under this package may import Django, Celery or a database driver,
so that the engine can be tested in isolation and run by `simulate` with no services.
"""
