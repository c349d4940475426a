"""The cost allocation tags on Zappa's resources: `tags` in zappa_settings.json, as Zappa itself resolves each stage
(`extends` replaces a whole key, so every API stage carries its own `tags`, and its worker inherits them). Zappa
puts them on the function (`tag_resource`), on its CloudFormation stack (so on the REST API) and on a deployment
bucket it creates."""

from __future__ import annotations

import pytest

from tools import packaging

STAGES = ("dev", "staging", "prod")


@pytest.mark.parametrize("stage", [*STAGES, *(f"{s}-worker" for s in STAGES)])
def test_every_stage_resolves_the_project_and_environment_tags(stage):
    cli = packaging.load_stage(stage)
    expected = {"Project": "lego-api", "Environment": stage.removesuffix("-worker")}

    assert cli.stage_config["tags"] == expected
    assert cli.tags == expected
    assert cli.zappa.tags == expected  # what Zappa's core passes to tag_resource and the stack's Tags


def test_the_environment_tag_matches_the_infra_stacks_stage():
    """cost_tags() tag the stacks' resources Environment=<Stage> (dev, staging, prod), not the app's ENVIRONMENT
    (`production`): the budget filters on one value for both."""
    for stage in STAGES:
        cli = packaging.load_stage(stage)
        assert cli.tags["Environment"] == stage
        assert "project" not in cli.tags  # the old lower-case key is gone
