"""What every stack shares: the project's name, the per-stage parameter, the stack names (Zappa already owns
`lego-api-{stage}`, so ours are `lego-api-{kind}-{stage}`) and the cost allocation tags every taggable resource
carries."""

from __future__ import annotations

from troposphere import Parameter, Ref, Tags, Template

PROJECT = "lego-api"
STAGES = ("dev", "staging", "prod")


def stack_name(kind: str, stage: str) -> str:
    """`lego-api-data-prod`: never `lego-api-prod`, which is Zappa's own stack."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    return f"{PROJECT}-{kind}-{stage}"


def new_template(description: str) -> Template:
    """A template with the `Stage` parameter that every stack takes (one stack per stage)."""
    template = Template(Description=description)
    template.set_version("2010-09-09")
    template.add_parameter(
        Parameter(
            "Stage", Type="String", AllowedValues=list(STAGES), Description="deployment stage (dev, staging, prod)"
        )
    )
    return template


def cost_tags(**extra: str) -> Tags:
    """The cost allocation tags (`Project`, `Environment` = the stage) plus any others, for a resource's `Tags`."""
    return Tags(Project=PROJECT, Environment=Ref("Stage"), **extra)
