"""The AWS resources Zappa does not create, as CloudFormation written with troposphere (Zappa already depends on
it, so the templates are Python we can test and lint). `python -m infra.build` writes every stack's template to
infra/templates/ (committed, so reviewers and cfn-lint see them); `--check` fails when one drifts from its source.
Never shipped in the Lambda zip, never imported by the runtime code."""
