"""Processes run to the end by a real worker: service tasks in a row, in parallel, and script tasks."""
from __future__ import annotations

from collections import Counter

import pytest

from apps.instances import outbox
from apps.instances.models import (
    FlowNodeInstance, InstanceState, Job, JobKind, JobState, OutboxMessage, ProcessInstance, Variable,
)
from tests.integration import plugins_for_tests as plugins

pytestmark = pytest.mark.django_db(transaction=True)


def completed(instance_id: int):
    return ProcessInstance.objects.filter(pk=instance_id, state=InstanceState.COMPLETED).first()


def node_rows(instance_id: int) -> Counter:
    """History rows per flow node (sequence flows left out)."""
    return Counter(FlowNodeInstance.objects.filter(instance_id=instance_id).exclude(element_type="sequenceFlow")
                   .values_list("element_id", flat=True))


def variables(instance_id: int) -> dict:
    return dict(Variable.objects.filter(instance_id=instance_id).values_list("name", "value"))


def test_a_chain_of_service_tasks_runs_in_order_once_each(worker, deploy, start, wait_until, run):
    instance = start(deploy("chain"), run=run)

    wait_until(lambda: completed(instance.pk), what="the chain completes", instance_id=instance.pk)

    jobs = {job.element_id: job for job in Job.objects.filter(instance_id=instance.pk)}
    assert sorted(jobs) == ["a", "b", "c"]
    assert plugins.calls(run) == [str(jobs["a"].pk), str(jobs["b"].pk), str(jobs["c"].pk)]
    assert {(job.state, job.attempt) for job in jobs.values()} == {(JobState.COMPLETED, 1)}
    values = variables(instance.pk)
    assert {name: values[f"{name}_result"]["job"] for name in "abc"} == {name: str(jobs[name].pk) for name in "abc"}
    assert all(pid != 0 for pid in (values[f"{name}_result"]["pid"] for name in "abc"))
    assert node_rows(instance.pk) == {"start": 1, "a": 1, "b": 1, "c": 1, "end": 1}
    assert set(FlowNodeInstance.objects.filter(instance_id=instance.pk).values_list("state", flat=True)) \
        <= {FlowNodeInstance.State.COMPLETED, FlowNodeInstance.State.TAKEN}
    # The three went out as one Celery chain, never as messages of their own.
    chains = list(OutboxMessage.objects.filter(task_name=outbox.CANVAS_PREFIX + "chain"))
    assert [[link["kwargs"]["job_id"] for link in chain.kwargs["links"]] for chain in chains] == [
        [str(jobs[name].pk) for name in "abc"]]
    assert not OutboxMessage.objects.filter(task_name="baton.job.run").exists()


def test_a_parallel_fan_out_joins_once_and_goes_on(worker, deploy, start, wait_until, run):
    instance = start(deploy("fan_out"), run=run)

    wait_until(lambda: completed(instance.pk), what="the fan-out completes", instance_id=instance.pk)

    jobs = {job.element_id: job for job in Job.objects.filter(instance_id=instance.pk)}
    assert sorted(jobs) == ["after", "left", "middle", "right"]
    calls = plugins.calls(run)
    assert sorted(calls[:3]) == sorted(str(jobs[name].pk) for name in ("left", "middle", "right"))
    assert calls[3:] == [str(jobs["after"].pk)]
    assert {(job.state, job.attempt) for job in jobs.values()} == {(JobState.COMPLETED, 1)}
    assert node_rows(instance.pk) == {"start": 1, "fork": 1, "left": 1, "middle": 1, "right": 1, "join": 1,
                                      "after": 1, "end": 1}
    values = variables(instance.pk)
    assert {f"{name}_result" for name in ("left", "middle", "right", "after")} <= set(values)


@pytest.mark.parametrize(("lines", "total", "label", "path"), [
    ([{"qty": 3, "unit_price": 40}, {"qty": 1, "unit_price": 5}], 125, "big order of 2 lines", "big"),
    ([{"qty": 2, "unit_price": 10}], 20, "small order", "small"),
])
def test_script_tasks_run_on_the_worker(worker, deploy, start, wait_until, run, lines, total, label, path):
    instance = start(deploy("scripts"), run=run, lines=lines)

    wait_until(lambda: completed(instance.pk), what="the scripted process completes", instance_id=instance.pk)

    values = variables(instance.pk)
    assert (values["total"], values["count"], values["label"]) == (total, len(lines), label)
    assert node_rows(instance.pk) == {"start": 1, "price": 1, "size": 1, path: 1, "merge": 1, "confirm": 1, "end": 1}
    jobs = Job.objects.filter(instance_id=instance.pk)
    assert {(job.kind, job.element_id, job.state, job.queue) for job in jobs} == {
        (JobKind.SCRIPT, "price", JobState.COMPLETED, "baton.scripts"),
        (JobKind.SCRIPT, path, JobState.COMPLETED, "baton.scripts"),
        (JobKind.SERVICE, "confirm", JobState.COMPLETED, "baton.plugins"),
    }
    confirm = jobs.get(element_id="confirm")
    assert values["confirmed"]["job"] == str(confirm.pk)
    assert plugins.calls(run) == [str(confirm.pk)]

