"""The benchmark's models are fair: both engines read the same bytes and end with the same variables.

`scripts/bench engine` compares Baton with SpiffWorkflow 3.2.0 on XML from `bench.models`. These
tests prove the comparison is apples to apples on small sizes: every model parses cleanly with
Baton's parser, validates against the BPMN 2.0 XSD (Baton's copy and Spiff's), and one run on
each engine ends completed with exactly the expected variables. No timings here: time is
measured by the benchmark, never asserted in tests.
"""
from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator

from bench import models
from bench.engine import CASES, baton_runner, spiff_runner
from orchestrator.bpmn.parser import DEFAULT_MAX_BYTES, parse
from orchestrator.bpmn.xsd import validate_against_xsd

SMALL = [models.chain(1), models.chain(7), models.parallel(2), models.parallel(10), models.loop(1), models.loop(12)]


def ids(model: models.BenchModel) -> str:
    return model.name.replace(" ", "-")


@pytest.mark.parametrize("model", SMALL, ids=ids)
def test_baton_parses_the_model_without_problems(model):
    result = parse(model.xml)
    assert result.problems == []
    assert validate_against_xsd(result.tree) == []
    assert list(result.definitions.processes) == [model.process_id]


@pytest.mark.parametrize("model", SMALL, ids=ids)
def test_spiff_parses_and_validates_the_same_bytes(model):
    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_str(model.xml.encode("utf-8"))  # the validator raises on invalid XML
    assert parser.get_spec(model.process_id).name == model.process_id


@pytest.mark.parametrize("model", SMALL, ids=ids)
def test_one_run_on_each_engine_ends_with_the_same_variables(model):
    baton_run, baton_outcome = baton_runner(model)
    spiff_run, spiff_outcome = spiff_runner(model)
    result = baton_run()
    baton = baton_outcome(result)
    spiff = spiff_outcome(spiff_run())
    assert baton.completed and spiff.completed
    assert baton.variables == spiff.variables == model.expected
    assert result.steps == model.steps  # the benchmark's µs/step divides by this


def test_every_benchmark_case_fits_the_parser_size_limit():
    for factory in CASES.values():
        assert len(factory().xml.encode("utf-8")) < DEFAULT_MAX_BYTES
