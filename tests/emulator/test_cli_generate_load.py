"""The command line (serve/start/stop), the generator, and the 1,000-account load time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import EMULATOR, HERE, start_server, stop_server
from generate import generate
from idcemu.expect import expected
from idcemu.scenario import ScenarioError, check, load, parse_gen


def test_serve_prints_one_line_and_stops_on_sigterm():
    proc, endpoint, _ = start_server("blog")
    try:
        assert endpoint.startswith("http://127.0.0.1:") and int(endpoint.rsplit(":", 1)[1]) > 0
        assert json.loads(urllib.request.urlopen(endpoint + "/_emulator/health").read()) == {"ok": True}
    finally:
        stop_server(proc)
    assert proc.returncode == 0
    assert proc.stdout.read() == b""  # nothing after the endpoint line


def test_start_and_stop_with_state_dir(tmp_path):
    state = tmp_path / "emu"
    out = subprocess.run([sys.executable, EMULATOR, "start", "--scenario", "blog", "--state-dir", str(state)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    endpoint = out.stdout.strip()
    pid = int((state / "emulator.pid").read_text())
    try:
        assert (state / "endpoint").read_text().strip() == endpoint
        assert "serving on" in (state / "emulator.log").read_text()
        assert json.loads(urllib.request.urlopen(endpoint + "/_emulator/scenario").read())["accounts"] == 4
        again = subprocess.run([sys.executable, EMULATOR, "start", "--scenario", "blog", "--state-dir", str(state)],
                               capture_output=True, text=True, timeout=60)
        assert again.returncode == 1
    finally:
        stop = subprocess.run([sys.executable, EMULATOR, "stop", "--state-dir", str(state)],
                              capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0
    assert not (state / "emulator.pid").exists()
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            break
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")
    # stopping again is harmless
    assert subprocess.run([sys.executable, EMULATOR, "stop", "--state-dir", str(state)], timeout=60).returncode == 0


def test_bad_scenario_fails_fast(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"management_account": "111122223333", "accounts": [{"id": "111122223333"}],
                               "instances": [{"owner": "111122223333", "identity_store_id": "d-1234567890"}],
                               "users": [{"store": "d-1234567890", "user_name": "a", "emails": ["x@y.z"]},
                                         {"store": "d-1234567890", "user_name": "b", "emails": [" X@Y.Z"]}]}))
    out = subprocess.run([sys.executable, EMULATOR, "serve", "--scenario", str(bad)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0 and out.stdout == "" and "twice" in out.stderr


def test_scenario_checks():
    base = {"management_account": "111122223333", "accounts": [{"id": "111122223333"}, {"id": "111122224444"}]}
    with pytest.raises(ScenarioError, match="two account instances"):
        check({**base, "instances": [
            {"owner": "111122224444", "identity_store_id": "d-1111111111"},
            {"owner": "111122224444", "region": "eu-west-1", "identity_store_id": "d-2222222222"}]})
    with pytest.raises(ScenarioError, match="not a user"):
        check({**base, "instances": [{"owner": "111122223333", "identity_store_id": "d-1111111111"}],
               "groups": [{"store": "d-1111111111", "name": "g", "members": ["ghost"]}]})
    with pytest.raises(ScenarioError):
        parse_gen("accounts=3,bogus=1")
    assert parse_gen("accounts=1000,account_instances=100,users=20000,seed=7") == {
        "accounts": 1000, "account_instances": 100, "users": 20000, "seed": 7}


def test_generator_is_deterministic_and_messy_enough(tmp_path):
    a = generate(accounts=50, account_instances=10, users=2000, seed=3)
    b = generate(accounts=50, account_instances=10, users=2000, seed=3)
    assert a == b and a != generate(accounts=50, account_instances=10, users=2000, seed=4)
    s = check(a)
    assert len(s["accounts"]) == 50 and len(s["instances"]) == 11 and len(s["users"]) == 2000
    assert all(x["has_role"] and x["state"] == "ACTIVE" for x in s["accounts"])
    assert {i["region"] for i in s["instances"]} == {"us-east-1", "eu-west-1"}
    no_email = sum(1 for u in s["users"] if not u["emails"])
    two = sum(1 for u in s["users"] if len(u["emails"]) == 2)
    assert 10 < no_email < 100 and 40 < two < 200
    exp = expected(s)
    assert len(exp["duplicated_users"]) > 50
    assert sum(1 for u in s["users"] for e in u["emails"] if e != e.strip().lower()) > 5  # case/space variants
    assert any(not g["members"] for g in s["groups"]) and any(g["members"] for g in s["groups"])
    kinds = {x["principal_type"] for app in s["applications"] for x in app["assignments"]}
    assert kinds == {"USER", "GROUP"}
    # the CLI writes the same scenario
    out = tmp_path / "gen.json"
    subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--accounts", "50", "--account-instances", "10",
                    "--users", "2000", "--seed", "3", "-o", str(out)], check=True, timeout=60)
    assert json.loads(out.read_text()) == generate(accounts=50, account_instances=10, users=2000, seed=3)
    odd = check(generate(accounts=20, account_instances=2, users=50, seed=1, suspended=2, without_role=3))
    assert sum(x["state"] == "SUSPENDED" for x in odd["accounts"]) == 2
    assert sum(not x["has_role"] for x in odd["accounts"]) == 3
    assert load("gen:accounts=5,account_instances=1,users=10,seed=2")["accounts"][1]["id"] == "200000000001"


def test_load_1000_accounts_50000_users(server_factory, capsys):
    emu = server_factory("gen:accounts=1000,account_instances=100,users=50000,seed=7")
    summary = emu.admin("GET", "/scenario")
    assert summary["accounts"] == 1000 and summary["users"] == 50000 and summary["account_instances"] == 100
    org_store = emu.client("sso-admin").list_instances()["Instances"][0]["IdentityStoreId"]
    ids = emu.client("identitystore")
    t0 = time.perf_counter()
    n = sum(len(p["Users"]) for p in ids.get_paginator("list_users").paginate(IdentityStoreId=org_store))
    walk = time.perf_counter() - t0
    assert n == 25000
    with capsys.disabled():
        print(f"\n[load] 1,000 accounts / 50,000 users: server ready in {emu.startup:.1f}s "
              f"(scenario load {summary['load_seconds']:.1f}s); listing the 25,000-user org store "
              f"took {walk:.1f}s over {n // 100} pages")


def test_exit_with_parent():
    """`serve --exit-with-parent` stops by itself when whatever started it dies."""
    code = ("import subprocess, sys; "
            f"p = subprocess.Popen([sys.executable, {EMULATOR!r}, 'serve', '--scenario', 'blog', '--exit-with-parent'], "
            "stdout=subprocess.PIPE, stderr=subprocess.DEVNULL); "
            "print(p.pid, p.stdout.readline().decode().strip(), flush=True); sys.stdin.read()")
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    pid_text, endpoint = parent.stdout.readline().decode().split()
    pid = int(pid_text)
    assert json.loads(urllib.request.urlopen(endpoint + "/_emulator/health").read()) == {"ok": True}
    parent.stdin.close()
    parent.wait(timeout=30)
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().split(") ", 1)[1].split()[0] == "Z":
                    break
        except OSError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        raise AssertionError("the server outlived its parent")
