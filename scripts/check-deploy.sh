#!/usr/bin/env bash
# Every offline check of the deployment: installs its tools (scripts/setup-deploy-tools.sh),
# then runs tests/deploy with pytest:
#   - the IAM policies against the AWS calls in src/ (test_iam_vs_code.py);
#   - the template's settings and the test events (test_template.py, test_events.py);
#   - the Step Functions workflow (test_statemachine.py): asl-validator on
#     statemachine/audit.asl.json, its event, retries and catches against the resume
#     contract and README.md, the IAM of the state machine, its schedule and the checkpoint
#     prefix, and Orchestration=function deploying what it did before;
#   - sam validate --lint, cfn-lint on both templates and on the SAM-translated
#     CloudFormation, checkov --skip-download (test_linters.py);
#   - sam build through cargo-lambda, the bootstrap's ELF architecture, and packaging of
#     the built template with sam's own exporter (test_sam_build.py; the longest step:
#     a cold release build takes several minutes, a warm one seconds);
#   - SQL over the history (test_athena.py): the Glue tables' columns against the CSV
#     headers of the debug binary (built by `cargo build` if needed), and every Athena named
#     query run with DuckDB over reports the binary uploads to the emulator (about 30 s;
#     it needs the emulator's venv, hence scripts/setup-emulator.sh below).
# No AWS account or credential is used. Extra arguments go to pytest (e.g. -k 'not build').
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-deploy-tools.sh
bash scripts/setup-emulator.sh

export PATH="$PWD/.venv/deploy/bin:$PATH"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0
export SAM_CLI_DISABLE_UPDATE_CHECK=1

exec .venv/deploy/bin/python -m pytest -p no:cacheprovider tests/deploy -v -rs --durations=8 "$@"
