"""CloudWatch Embedded Metric Format lines (lego_api/core/metrics.py) and the request latency metric."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from lego_api.core import metrics


def emf_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"') and '"_aws"' in line]


@pytest.fixture
def enabled(settings):
    settings.METRICS_ENABLED = True
    settings.ENVIRONMENT = "staging"


def test_emit_writes_one_emf_line_dimensioned_by_environment(enabled, capsys):
    metrics.emit("MocsCreated", 1, properties={"userId": "u-1"})

    (document,) = emf_lines(capsys.readouterr().out)
    assert document["MocsCreated"] == 1
    assert document["Environment"] == "staging"
    assert document["userId"] == "u-1"
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "LegoApi",
        "Dimensions": [["Environment"]],
        "Metrics": [{"Name": "MocsCreated", "Unit": "Count"}],
    }
    assert isinstance(document["_aws"]["Timestamp"], int)


def test_disabled_emits_nothing(settings, capsys):
    settings.METRICS_ENABLED = False

    metrics.emit("MocsCreated", 1)

    assert emf_lines(capsys.readouterr().out) == []


def test_unknown_unit_is_refused(enabled):
    with pytest.raises(ValueError, match="unknown CloudWatch unit"):
        metrics.emit("RequestLatency", 1, unit="ms")


@pytest.mark.django_db(transaction=True)
def test_emit_on_commit_skips_rolled_back_work(enabled, capsys):
    with pytest.raises(RuntimeError), transaction.atomic():
        metrics.emit_on_commit("MocsCreated", 1)
        raise RuntimeError
    with transaction.atomic():
        metrics.emit_on_commit("FilesUploaded", 2)

    documents = emf_lines(capsys.readouterr().out)
    assert [d.get("FilesUploaded") for d in documents] == [2]


def test_api_requests_emit_latency_and_health_does_not(enabled, client, capsys):
    client.get("/api/test/public")
    client.get("/health", {"shallow": "1"})

    documents = emf_lines(capsys.readouterr().out)
    assert len(documents) == 1
    assert documents[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "RequestLatency", "Unit": "Milliseconds"}
    ]
    assert documents[0]["status"] == 200 and documents[0]["method"] == "GET"
