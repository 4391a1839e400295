"""Translate template.yaml (SAM) into plain CloudFormation, offline.

cfn-lint checks SAM resources against their schemas only; linting the translated template
as well catches errors in what SAM generates (the function, its event invoke config, the
state machine, its Scheduler schedule and that schedule's role). The translation is the one `sam deploy` asks
CloudFormation to run, done here by aws-sam-translator, the library CloudFormation's
AWS::Serverless transform is built on.

The state machine's definition is a local file (DefinitionUri), which `sam deploy` uploads
to S3 (the translated template then names it in DefinitionS3Location, and CloudFormation
reads it from there). `translate(..., inline_definitions=True)` puts the file's text in
DefinitionString instead, as CloudFormation will read it, so that cfn-lint checks the
definition too (with its DefinitionSubstitutions).

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
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str) and not props["DefinitionUri"].startswith("s3://"):
            props["DefinitionUri"] = f"s3://example-deployment-bucket/{name}.asl.json"
    return template


def local_definitions(template: dict, base: Path) -> dict[str, Path]:
    """The local definition file of each SAM state machine, by logical id."""
    found = {}
    for name, resource in template.get("Resources", {}).items():
        uri = resource.get("Properties", {}).get("DefinitionUri")
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(uri, str) and not uri.startswith("s3://"):
            found[name] = base / uri
    return found


def translate(template_path: Path, overrides: dict[str, str] | None = None, inline_definitions: bool = False) -> dict:
    source = yaml_parse(template_path.read_text())
    definitions = local_definitions(source, template_path.parent)
    template = as_if_packaged(source)
    params: dict[str, object] = dict(PSEUDO)
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            params[name] = spec["Default"]
        elif name in EXAMPLES:
            params[name] = EXAMPLES[name]
    params.update(overrides or {})
    out = transform(template, params, NoManagedPolicies())
    if inline_definitions:
        for name, path in definitions.items():
            props = out["Resources"][name]["Properties"]
            del props["DefinitionS3Location"]
            props["DefinitionString"] = path.read_text()
    return out


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
