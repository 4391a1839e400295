"""`sam build` produces the function's bootstrap through cargo-lambda, for the template's
architecture; then sam's own packaging code turns the built template into what
`sam deploy` would send (function zip and member-role.yaml uploaded, their S3 URLs in
the template), with a local stand-in for S3.

arm64 is built when the aarch64 Rust standard library is installed (setup-deploy-tools.sh
tries `rustup target add`); otherwise x86_64, and the test says so. DEPLOY_BUILD_ARCH
(arm64 or x86_64) forces one. DEPLOY_SKIP_BUILD=1 skips this module (quick iterations
on the templates only)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, note, tool

import sam_translate

pytestmark = pytest.mark.skipif(os.environ.get("DEPLOY_SKIP_BUILD") == "1", reason="DEPLOY_SKIP_BUILD=1")

BUILD_DIR = REPO / ".aws-sam" / "build"
BOOTSTRAP = BUILD_DIR / "AuditFunction" / "bootstrap"
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # EM_AARCH64, EM_X86_64
# provided.al2023 ships glibc 2.34: the binary must not need a newer one.
RUNTIME_GLIBC = (2, 34)


def aarch64_std_installed() -> bool:
    try:
        out = subprocess.run(["rustup", "target", "list", "--installed"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "aarch64-unknown-linux-gnu" in out.stdout.split()


def choose_arch() -> str:
    forced = os.environ.get("DEPLOY_BUILD_ARCH")
    if forced:
        assert forced in ELF_MACHINE, f"DEPLOY_BUILD_ARCH must be one of {sorted(ELF_MACHINE)}"
        return forced
    if aarch64_std_installed():
        return "arm64"
    note("the aarch64 Rust standard library is not installed and could not be: building x86_64 instead of arm64")
    return "x86_64"


@pytest.fixture(scope="module")
def build():
    arch = choose_arch()
    cmd = [
        tool("sam"), "build",
        "--template-file", "template.yaml",
        "--parameter-overrides", f"Architecture={arch} MemberOrganizationalUnitIds=r-abcd",
    ]
    env = dict(os.environ)
    # sam finds cargo-lambda (and cargo-lambda finds zig) on PATH: this venv first.
    env["PATH"] = f"{Path(tool('sam')).parent}{os.pathsep}{env.get('PATH', '')}"
    if BOOTSTRAP.exists():
        BOOTSTRAP.unlink()  # never judge a bootstrap left by an earlier build
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - start
    print(f"$ {' '.join(cmd)}\n{proc.stdout[-4000:]}{proc.stderr[-8000:]}")
    note(f"sam build ({arch}) took {seconds:.0f} s")
    assert proc.returncode == 0, "sam build failed (does the crate compile? see the output above)"
    return {"arch": arch, "seconds": seconds, "output": proc.stdout + proc.stderr}


def test_build_ran_cargo_lambda(build):
    assert "RustCargoLambdaBuilder" in build["output"]
    assert "Build Succeeded" in build["output"]


def test_bootstrap_elf_architecture(build):
    data = BOOTSTRAP.read_bytes()
    assert data[:4] == b"\x7fELF", "bootstrap is not an ELF file"
    assert data[4] == 2 and data[5] == 1, "expected a 64-bit little-endian ELF"
    e_type = int.from_bytes(data[16:18], "little")
    e_machine = int.from_bytes(data[18:20], "little")
    assert e_type in (2, 3), "bootstrap is not an executable"
    assert e_machine == ELF_MACHINE[build["arch"]], f"e_machine {e_machine}, expected {build['arch']}"
    assert os.access(BOOTSTRAP, os.X_OK)
    if shutil.which("file"):
        print(subprocess.run(["file", str(BOOTSTRAP)], capture_output=True, text=True).stdout)
    note(f"bootstrap: ELF {build['arch']} (e_machine {e_machine}), {len(data) / 1e6:.1f} MB")


def test_bootstrap_runs_on_the_lambda_glibc(build):
    if not shutil.which("readelf"):
        pytest.skip("readelf not installed")
    out = subprocess.run(["readelf", "--version-info", "--wide", str(BOOTSTRAP)], capture_output=True, text=True).stdout
    needed = {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", out)}
    assert needed, "no glibc version found: is the binary static?"
    newest = max(needed)
    note(f"bootstrap needs glibc {'.'.join(map(str, newest))} at most (provided.al2023: 2.34)")
    assert newest <= RUNTIME_GLIBC, f"needs glibc {newest}, provided.al2023 has {RUNTIME_GLIBC}"


def test_built_template_points_at_the_artefacts(build):
    from conftest import load_template

    built = load_template(BUILD_DIR / "template.yaml")
    fn = built["Resources"]["AuditFunction"]["Properties"]
    assert (BUILD_DIR / fn["CodeUri"] / "bootstrap").exists()
    stackset = built["Resources"]["MemberRoleStackSet"]["Properties"]
    # sam build rewrote the local TemplateURL relative to the built template.
    assert (BUILD_DIR / stackset["TemplateURL"]).resolve() == (REPO / "member-role.yaml").resolve()
    # And the workflow definition's path, the same way.
    machine = built["Resources"]["AuditStateMachine"]["Properties"]
    assert (BUILD_DIR / machine["DefinitionUri"]).resolve() == (REPO / "statemachine" / "audit.asl.json").resolve()


class LocalS3Uploader:
    """Stands in for sam's S3Uploader: 'uploads' into a folder and returns the URLs the
    real one would."""

    def __new__(cls, folder: Path):
        import boto3
        from samcli.lib.package.s3_uploader import S3Uploader

        class _Uploader(S3Uploader):
            def upload(self, file_name: str, remote_path: str) -> str:
                if self.prefix:
                    remote_path = f"{self.prefix}/{remote_path}"
                target = folder / remote_path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file_name, target)
                return self.make_url(remote_path)

            def file_exists(self, remote_path: str) -> bool:
                return False

        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        return _Uploader(client, "example-deployment-bucket", prefix="idc-report", no_progressbar=True)


def test_packaging_uploads_function_member_template_and_workflow(build, tmp_path):
    """What `sam deploy` does before creating the change set, with sam's own exporter."""
    from samcli.lib.package.artifact_exporter import Template
    from samcli.lib.package.code_signer import CodeSigner
    from samcli.lib.package.uploaders import Uploaders

    store = tmp_path / "s3"
    uploaders = Uploaders(LocalS3Uploader(store), None)
    packaged = Template("template.yaml", str(BUILD_DIR), uploaders, CodeSigner(None, None)).export()

    code_uri = packaged["Resources"]["AuditFunction"]["Properties"]["CodeUri"]
    assert code_uri.startswith("s3://example-deployment-bucket/idc-report/")
    with zipfile.ZipFile(store / code_uri.split("/", 3)[3]) as zf:
        info = zf.getinfo("bootstrap")
        assert (info.external_attr >> 16) & 0o111, "bootstrap must be executable in the zip"
        assert zf.read("bootstrap") == BOOTSTRAP.read_bytes()

    url = packaged["Resources"]["MemberRoleStackSet"]["Properties"]["TemplateURL"]
    assert url.startswith("https://") and "/example-deployment-bucket/idc-report/" in url
    key = url.split("/example-deployment-bucket/", 1)[1]
    assert (store / key).read_text() == (REPO / "member-role.yaml").read_text()

    # The workflow definition is uploaded too (sam deploy uploads it whatever Orchestration
    # is: conditions are CloudFormation's), and named by its S3 URI.
    definition_uri = packaged["Resources"]["AuditStateMachine"]["Properties"]["DefinitionUri"]
    assert definition_uri["Bucket"] == "example-deployment-bucket" and definition_uri["Key"].startswith("idc-report/")
    assert (store / definition_uri["Key"]).read_text() == (REPO / "statemachine" / "audit.asl.json").read_text()

    # And the packaged template translates, as CloudFormation will do with it.
    path = tmp_path / "packaged.json"
    path.write_text(json.dumps(packaged))
    out = sam_translate.translate(path)
    assert out["Resources"]["AuditFunction"]["Properties"]["Code"]["S3Bucket"] == "example-deployment-bucket"
    assert out["Resources"]["MemberRoleStackSet"]["Properties"]["TemplateURL"] == url
    location = out["Resources"]["AuditStateMachine"]["Properties"]["DefinitionS3Location"]
    assert (location["Bucket"], location["Key"]) == (definition_uri["Bucket"], definition_uri["Key"])
