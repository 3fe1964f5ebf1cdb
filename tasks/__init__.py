"""Service-task plugins that ship with Baton: Celery tasks a BPMN service task calls by name.

Only plugins belong in this package; every module in it is imported at start-up.
"""
