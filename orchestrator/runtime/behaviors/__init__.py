"""The registry: one behaviour per BPMN element kind."""
from __future__ import annotations

from typing import Mapping

from orchestrator.bpmn.model import Kind
from orchestrator.runtime.behaviors.base import Behavior
from orchestrator.runtime.behaviors.boundary_event import BoundaryEvent
from orchestrator.runtime.behaviors.call_activity import CallActivity
from orchestrator.runtime.behaviors.catch_event import IntermediateCatchEvent
from orchestrator.runtime.behaviors.event_gateway import EventBasedGateway
from orchestrator.runtime.behaviors.end_event import EndEvent
from orchestrator.runtime.behaviors.exclusive_gateway import ExclusiveGateway
from orchestrator.runtime.behaviors.inclusive_gateway import InclusiveGateway
from orchestrator.runtime.behaviors.intermediate_throw_event import IntermediateThrowEvent
from orchestrator.runtime.behaviors.parallel_gateway import ParallelGateway
from orchestrator.runtime.behaviors.receive_task import ReceiveTask
from orchestrator.runtime.behaviors.script_task import ScriptTask
from orchestrator.runtime.behaviors.service_task import ServiceTask
from orchestrator.runtime.behaviors.start_event import StartEvent
from orchestrator.runtime.behaviors.sub_process import SubProcess
from orchestrator.runtime.behaviors.tasks import Task
from orchestrator.runtime.behaviors.unsupported import Unsupported
from orchestrator.runtime.behaviors.user_task import UserTask

BEHAVIORS: Mapping[Kind, Behavior] = {
    Kind.START_EVENT: StartEvent(),
    Kind.END_EVENT: EndEvent(),
    Kind.INTERMEDIATE_THROW_EVENT: IntermediateThrowEvent(),
    Kind.INTERMEDIATE_CATCH_EVENT: IntermediateCatchEvent(),
    Kind.BOUNDARY_EVENT: BoundaryEvent(),
    Kind.EVENT_BASED_GATEWAY: EventBasedGateway(),
    Kind.TASK: Task(),
    Kind.MANUAL_TASK: Task(),
    Kind.SCRIPT_TASK: ScriptTask(),
    Kind.SERVICE_TASK: ServiceTask(),
    Kind.SEND_TASK: ServiceTask(),
    Kind.BUSINESS_RULE_TASK: ServiceTask(),
    Kind.USER_TASK: UserTask(),
    Kind.RECEIVE_TASK: ReceiveTask(),
    Kind.SUB_PROCESS: SubProcess(),
    Kind.TRANSACTION: SubProcess(),
    Kind.CALL_ACTIVITY: CallActivity(),
    Kind.EXCLUSIVE_GATEWAY: ExclusiveGateway(),
    Kind.PARALLEL_GATEWAY: ParallelGateway(),
    Kind.INCLUSIVE_GATEWAY: InclusiveGateway(),
}

__all__ = ["BEHAVIORS", "Behavior", "InclusiveGateway", "Unsupported"]
