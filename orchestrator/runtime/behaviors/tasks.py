"""Task and manual task: no work for the engine, so they pass the token on.

SpiffWorkflow treats both as wait states; BPMN 2.0 does not (a manual task is performed
without any engine support), and neither does Camunda. The conformance report says so.
"""
from __future__ import annotations

from orchestrator.runtime.behaviors.base import PassThrough


class Task(PassThrough):
    pass
