"""Translate template.yaml (SAM) into plain CloudFormation, offline.

cfn-lint checks SAM resources against their schemas only; linting the translated template
as well catches errors in what SAM generates (the function, its event invoke config, the
Scheduler schedule and its role). The translation is the one `sam deploy` asks
CloudFormation to run, done here by aws-sam-translator, the library CloudFormation's
AWS::Serverless transform is built on.

Usage: python sam_translate.py TEMPLATE OUTPUT.json [Name=Value ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

# Pseudo parameters as CloudFormation would pass them (example account).
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "111122223333",
    "AWS::Partition": "aws",
    "AWS::StackName": "idc-report",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/idc-report/"
    "00000000-0000-0000-0000-000000000000",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
    "AWS::NoValue": None,
}

# Parameters without a default get an example value so the translation can proceed.
EXAMPLES = {"MemberOrganizationalUnitIds": "r-abcd"}


class NoManagedPolicies:
    """The template names no AWS managed policy, so SAM must never need IAM's list."""

    def load(self) -> dict[str, str]:
        raise AssertionError("the SAM template asked for AWS managed policies; it should name none")


def as_if_packaged(template: dict) -> dict:
    """Stand in for `sam package` where it was not run: local artefact paths become S3
    URLs, which is all the transform needs (packaging itself is tested after `sam build`
    in test_sam_build.py, with sam's own exporter)."""
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and not str(props.get("CodeUri", "")).startswith("s3://"):
            props["CodeUri"] = f"s3://example-deployment-bucket/{name}.zip"
        if resource.get("Type") == "AWS::CloudFormation::StackSet" and not str(props.get("TemplateURL", "")).startswith("https://"):
            props["TemplateURL"] = f"https://s3.us-east-1.amazonaws.com/example-deployment-bucket/{name}.template"
    return template


def translate(template_path: Path, overrides: dict[str, str] | None = None) -> dict:
    template = as_if_packaged(yaml_parse(template_path.read_text()))
    params: dict[str, object] = dict(PSEUDO)
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            params[name] = spec["Default"]
        elif name in EXAMPLES:
            params[name] = EXAMPLES[name]
    params.update(overrides or {})
    return transform(template, params, NoManagedPolicies())


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    overrides = dict(arg.split("=", 1) for arg in argv[3:])
    out = translate(Path(argv[1]), overrides)
    Path(argv[2]).write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    print(f"translated {argv[1]} -> {argv[2]}: {len(out.get('Resources', {}))} resources")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
