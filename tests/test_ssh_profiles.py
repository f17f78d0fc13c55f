"""Talking to classic IOS: the SSH profiles of real routers, audited live over real SSH.

- The pinned paramiko (4.x) still offers the SHA-1 key exchanges and ``ssh-rsa`` that IOS 12.4/15.x
  need, and prefers every stronger algorithm to them.
- The fake router's profiles (``modern``, ``ios15``, ``ios124``) offer exactly the lists and key
  sizes of IOS XE 16/17, IOS 15.x and IOS 12.4; an audit of each records what the session showed
  (snapshot, meta.json, JSON report) and CME-ACC-11 judges it: pass, fail, fail.
- A server offering SHA-1 *and* SHA-2 gets SHA-2: the fallback is never chosen when a stronger
  algorithm is offered, whatever the server's order.
- A real OpenSSH sshd configured with IOS 15.x's lists, in front of the fake shell, is audited the
  same way.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import paramiko
import pytest

from cmelive.audit import audit_snapshot
from cmelive.collect import Target
from cmelive.collect.live import NetmikoCollector
from cmelive.collect.sshinfo import offered_algorithms
from cmelive.errors import ConnectError
from cmelive.commands import SHOW_VERSION
from cmelive.examples import example_dir
from cmelive.fake import FakeFleet, FakeRouter, FakeRouterSpec
from cmelive.fake.fleet import apply_faults, load_faults_file
from cmelive.fake.ssh_profiles import PROFILE_NAMES, PROFILES, SshProfile, SshProfileName, shared_host_key
from cmelive.report.sarif import device_sarif
from cmelive.snapshot import META_FILE, read_snapshot, write_snapshot
from cmelive.ssh_session import SshNegotiated

from .conftest import REPO
from .livefake import ENABLE_SECRET, PASSWORD, cli, credentials_env, write_known_hosts

ACC_11 = "CME-ACC-11"
SHA1_KEX = ("diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1")
# What paramiko, as cmelive's client, agrees on with each profile: the strongest of what is offered.
NEGOTIATED = {
    "modern": SshNegotiated("ecdh-sha2-nistp256", "rsa-sha2-512", "aes128-ctr", "hmac-sha2-256"),
    "ios15": SshNegotiated("diffie-hellman-group-exchange-sha1", "ssh-rsa", "aes128-ctr", "hmac-sha1"),
    "ios124": SshNegotiated("diffie-hellman-group-exchange-sha1", "ssh-rsa", "aes128-cbc", "hmac-sha1"),
}
ACC_11_STATUS = {"modern": "pass", "ios15": "fail", "ios124": "fail"}
#: The lists of the issue's table (real routers' ``show ip ssh`` and client debug logs), written out
#: again here so that a change of the profiles shows up as a difference from the field.
FIELD = {
    "ios15": (
        "SSH-2.0-Cisco-1.25",
        ("diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1"),
        ("ssh-rsa",),
        ("aes128-ctr", "aes192-ctr", "aes256-ctr"),
        ("hmac-sha1", "hmac-sha1-96"),
        2048,
    ),
    "ios124": (
        "SSH-1.99-Cisco-1.25",
        ("diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"),
        ("ssh-rsa",),
        ("aes128-cbc", "3des-cbc", "aes192-cbc", "aes256-cbc"),
        ("hmac-sha1", "hmac-sha1-96", "hmac-md5", "hmac-md5-96"),
        1024,
    ),
}


def _collect(router: FakeRouter, tmp_path: Path, commands: tuple[str, ...] = (SHOW_VERSION,)) -> Target:
    known_hosts = write_known_hosts(tmp_path / f"known_hosts_{router.port}", router.known_hosts_line())
    return Target(
        host=router.host,
        port=router.port,
        username="admin",
        password=PASSWORD,
        enable_secret=ENABLE_SECRET,
        known_hosts=(known_hosts,),
        timeout=10,
    )


# --- the dependency ---------------------------------------------------------------------------


def test_paramiko_is_pinned_to_4x_and_keeps_sha1_last() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"paramiko>=4\.0,<5"', pyproject), "paramiko must stay pinned to 4.x (README: SSH profiles)"
    assert version("paramiko").split(".")[0] == "4"
    ours, theirs = socket.socketpair()
    with ours, theirs:
        client = paramiko.Transport(ours)  # never started: its preferences only
        kex, keys = list(client.preferred_kex), list(client.preferred_keys)
        client.close()
    # Still offered: what IOS 12.4/15.x need ...
    assert set(SHA1_KEX) <= set(kex) and "ssh-rsa" in keys
    # ... after everything stronger, so that paramiko (which takes its first choice the server offers)
    # falls back to SHA-1 only when the server offers nothing else.
    first_sha1 = min(kex.index(name) for name in SHA1_KEX)
    assert all(name.endswith("sha1") for name in kex[first_sha1:])
    assert keys.index("ssh-rsa") > max(keys.index("rsa-sha2-256"), keys.index("rsa-sha2-512"))


# --- the profiles -------------------------------------------------------------------------------


def test_profiles_are_the_field_lists() -> None:
    assert PROFILE_NAMES == tuple(str(name) for name in SshProfileName) == tuple(PROFILES)
    for name, (server_id, kex, host_keys, ciphers, macs, bits) in FIELD.items():
        profile = PROFILES[name]
        assert (profile.server_version, profile.kex, profile.host_key_algorithms) == (server_id, kex, host_keys)
        assert (profile.ciphers, profile.macs, profile.host_key_bits) == (ciphers, macs, bits)
    modern = PROFILES["modern"]
    assert not any(name.endswith("sha1") for name in modern.kex) and modern.host_key_bits == 2048
    assert {"rsa-sha2-256", "rsa-sha2-512", "ssh-rsa"} == set(modern.host_key_algorithms)


def test_shared_host_keys_have_the_profile_sizes() -> None:
    assert shared_host_key(1024).get_bits() == 1024
    assert shared_host_key(1024) is shared_host_key(1024)  # made once per process


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_profile_audited_end_to_end(name: str, tmp_path: Path) -> None:
    """``cmelive audit`` over real SSH: what the session showed lands in the JSON report and in the
    saved snapshot's meta.json; CME-ACC-11 judges it, and replay of the saved snapshot agrees."""
    profile = PROFILES[name]
    snapshot = read_snapshot(example_dir("insecure-cme"))  # IOS 15.1(4)M12a: classic IOS
    with FakeRouter(snapshot, password=PASSWORD, enable_secret=ENABLE_SECRET, ssh_profile=profile) as router:
        assert router.host_key.get_bits() == profile.host_key_bits
        known_hosts = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
        saved = tmp_path / "saved"
        args = ["audit", router.host, "--port", str(router.port), "-u", "admin", "--known-hosts", str(known_hosts)]
        live = cli(*args, "--format", "json", "--save-snapshot", str(saved), env=credentials_env())
    assert live.returncode in (0, 1), live.stderr
    device = json.loads(live.stdout)["devices"][0]
    ssh = device["ssh"]
    assert ssh["server_version"] == profile.server_version
    assert ssh["offered"] == {
        "kex": list(profile.kex),
        "host_key": list(profile.host_key_algorithms),
        "ciphers": list(profile.ciphers),
        "macs": list(profile.macs),
    }
    chosen = NEGOTIATED[name]
    assert ssh["negotiated"] == {"kex": chosen.kex, "host_key": chosen.host_key, "cipher": chosen.cipher, "mac": chosen.mac}
    assert ssh["host_key"] == {"type": "ssh-rsa", "bits": profile.host_key_bits}
    acc_11 = next(r for r in device["results"] if r["check"] == ACC_11)
    assert acc_11["status"] == ACC_11_STATUS[name], acc_11["message"]
    assert [e["text"] for e in acc_11["evidence"][:2]] == [
        f"server: {profile.server_version}",
        f"kex offered: {', '.join(profile.kex)}",
    ]
    if acc_11["status"] == "fail":
        # The example runs IOS 15.1: nothing configurable removes SHA-1 there.
        assert acc_11["remediation"][-1].startswith("! upgrade to IOS XE 16 or later")
        assert "ip ssh dh min size 2048" in acc_11["remediation"]
    if name == "ios124":
        assert acc_11["remediation"][:3] == [
            "crypto key generate rsa general-keys label cme-branch-legacy-SSH modulus 2048",
            "ip ssh rsa keypair-name cme-branch-legacy-SSH",
            "ip ssh version 2",
        ]

    assert json.loads((saved / META_FILE).read_text(encoding="utf-8"))["ssh"] == ssh
    replayed = cli("replay", str(saved), "--format", "json")
    replayed_device = json.loads(replayed.stdout)["devices"][0]
    assert replayed_device["ssh"] == ssh
    assert next(r for r in replayed_device["results"] if r["check"] == ACC_11) == acc_11


def test_text_report_shows_the_session(tmp_path: Path) -> None:
    with FakeRouter({SHOW_VERSION: "x\n"}, hostname="R1", password=PASSWORD, enable_secret=ENABLE_SECRET,
                    ssh_profile=PROFILES["ios15"]) as router:
        known_hosts = write_known_hosts(tmp_path / "known_hosts", router.known_hosts_line())
        args = ["audit", router.host, "--port", str(router.port), "-u", "admin", "--known-hosts", str(known_hosts)]
        text = cli(*args, env=credentials_env()).stdout
    assert "SSH:      SSH-2.0-Cisco-1.25, host key ssh-rsa, 2048 bits\n" in text
    assert "Agreed:   kex diffie-hellman-group-exchange-sha1, host key ssh-rsa, cipher\n          aes128-ctr, MAC hmac-sha1\n" in text
    assert "Offered:  kex: diffie-hellman-group-exchange-sha1, diffie-hellman-group14-sha1;" in text


# --- SHA-1 only as a fallback -------------------------------------------------------------------


STRONGER_KEX = ("diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512",
                "diffie-hellman-group-exchange-sha256", "ecdh-sha2-nistp256")


@pytest.mark.parametrize("strong_kex", STRONGER_KEX)
@pytest.mark.parametrize("strong_host_key", ["rsa-sha2-256", "rsa-sha2-512"])
def test_sha1_is_never_chosen_when_something_stronger_is_offered(
    strong_kex: str, strong_host_key: str, tmp_path: Path
) -> None:
    """The server lists every SHA-1 choice first and one SHA-2 choice last: the audit gets SHA-2."""
    mixed = SshProfile(
        name="mixed",
        description="SHA-1 first, one SHA-2 algorithm last",
        server_version="SSH-2.0-Cisco-1.25",
        kex=(*SHA1_KEX, strong_kex),
        host_key_algorithms=("ssh-rsa", strong_host_key),
        ciphers=("aes128-ctr",),
        macs=("hmac-sha1", "hmac-sha2-256"),
        host_key_bits=2048,
    )
    with FakeRouter({SHOW_VERSION: "x\n"}, hostname="R1", password=PASSWORD, enable_secret=ENABLE_SECRET,
                    ssh_profile=mixed) as router:
        snapshot = NetmikoCollector().collect(_collect(router, tmp_path), [SHOW_VERSION])
    assert snapshot.ssh is not None and snapshot.ssh.negotiated is not None
    assert snapshot.ssh.offered.kex == mixed.kex
    assert (snapshot.ssh.negotiated.kex, snapshot.ssh.negotiated.host_key) == (strong_kex, strong_host_key)
    assert snapshot.ssh.negotiated.mac == "hmac-sha2-256"
    result = next(r for r in audit_snapshot(snapshot).results if r.check == ACC_11)
    assert str(result.status) == "pass", result.message


def test_kexinit_lists_are_read_as_rfc_4253_lays_them_out() -> None:
    message = paramiko.Message()
    message.add_bytes(bytes(16))
    for names in (
        ["diffie-hellman-group14-sha1", "ext-info-s", "kex-strict-s-v00@openssh.com"],
        ["ssh-rsa"],
        ["aes128-ctr"],
        ["aes128-ctr", "aes256-ctr"],
        ["hmac-sha1"],
        ["hmac-sha1\x1b[31m"],  # what a hostile server might send: kept printable
        ["none"], ["none"], [], [],
    ):
        message.add_list(names)
    message.add_boolean(False)
    message.add_int(0)
    offered = offered_algorithms(message.asbytes())
    assert offered.kex == ("diffie-hellman-group14-sha1",)
    assert offered.ciphers == ("aes128-ctr", "aes256-ctr")
    assert offered.macs == ("hmac-sha1", "hmac-sha1?[31m")


def test_replayed_captures_without_ssh_facts_are_unknown_for_acc_11() -> None:
    report = audit_snapshot(read_snapshot(example_dir("secure-cme")))
    assert report.ssh is None
    result = next(r for r in report.results if r.check == ACC_11)
    assert str(result.status) == "unknown"
    assert "needs what the SSH session showed at login" in result.message


def test_snapshot_round_trip_keeps_the_session(tmp_path: Path) -> None:
    with FakeRouter({SHOW_VERSION: "x\n"}, hostname="R1", password=PASSWORD, enable_secret=ENABLE_SECRET,
                    ssh_profile=PROFILES["ios124"]) as router:
        snapshot = NetmikoCollector().collect(_collect(router, tmp_path), [SHOW_VERSION])
    assert snapshot.ssh is not None
    assert read_snapshot(write_snapshot(snapshot, tmp_path / "snap")).ssh == snapshot.ssh


@pytest.mark.parametrize(
    ("ssh", "problem"),
    [
        ("ssh-rsa", '"ssh" must be an object'),
        ({"offered": {}, "host_key": {"type": "ssh-rsa"}}, '"ssh": "server_version" must be a non-empty string'),
        ({"server_version": "SSH-2.0-x", "offered": {"kex": "a,b"}, "host_key": {"type": "ssh-rsa"}},
         '"ssh": "offered"."kex" must be a list of algorithm names'),
        ({"server_version": "SSH-2.0-x", "offered": {}, "host_key": {"type": "ssh-rsa", "bits": "2048"}},
         '"ssh": "host_key"."bits" must be a positive whole number or null'),
    ],
)
def test_bad_ssh_block_in_meta_json_is_refused(ssh: object, problem: str, tmp_path: Path) -> None:
    (tmp_path / "show_version.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / META_FILE).write_text(json.dumps({"ssh": ssh}), encoding="utf-8")
    replayed = cli("replay", str(tmp_path))
    assert replayed.returncode == 2
    assert replayed.stderr.strip() == f"cmelive: error: {tmp_path / META_FILE}: {problem}"



def test_sarif_locates_session_evidence_in_meta_json() -> None:
    snapshot = read_snapshot(REPO / "fixtures" / "checks" / ACC_11 / "fail-ios15")
    log = json.loads("[" + device_sarif(audit_snapshot(snapshot, name="b7"), device_dir="b7", indent=False) + "]")
    (finding,) = [r for r in log if r["ruleId"] == ACC_11]
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for loc in finding["locations"]}
    assert uris == {"snapshots/b7/meta.json", "snapshots/b7/show_version.txt"}
    session = [loc for loc in finding["locations"] if loc["physicalLocation"]["artifactLocation"]["uri"].endswith("meta.json")]
    assert session[1]["message"]["text"] == "kex offered: diffie-hellman-group-exchange-sha1, diffie-hellman-group14-sha1"


def _kexinit_packet(kex: list[str]) -> bytes:
    """An unencrypted SSH packet (RFC 4253 6) holding a KEXINIT that offers ``kex``."""
    payload = bytes([20]) + bytes(16)
    for names in (kex, ["ssh-rsa"], ["aes128-ctr"], ["aes128-ctr"], ["hmac-sha1"], ["hmac-sha1"], ["none"], ["none"], [], []):
        raw = ",".join(names).encode()
        payload += struct.pack(">I", len(raw)) + raw
    payload += b"\x00" + struct.pack(">I", 0)
    padding = 8 - (len(payload) + 5) % 8
    padding += 8 if padding < 4 else 0
    return struct.pack(">IB", len(payload) + padding + 1, padding) + payload + bytes(padding)


def test_a_refused_negotiation_says_what_the_router_offers(tmp_path: Path) -> None:
    """A router offering nothing paramiko speaks: the error names what it offered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"SSH-2.0-Cisco-1.25\r\n")
            conn.recv(1024)  # the client's identification
            conn.sendall(_kexinit_packet(["sntrup761x25519-sha512@openssh.com", "diffie-hellman-group17-sha512"]))
            conn.settimeout(10)
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    target = Target("127.0.0.1", listener.getsockname()[1], "admin", "x", known_hosts=(tmp_path / "kh",), timeout=5)
    try:
        with pytest.raises(ConnectError) as refused:
            NetmikoCollector().collect(target, [SHOW_VERSION])
    finally:
        listener.close()
        server.join(10)
    assert str(refused.value).endswith(
        "SSH negotiation failed: Incompatible ssh peer (no acceptable kex algorithm); the router offers "
        "kex: sntrup761x25519-sha512@openssh.com, diffie-hellman-group17-sha512; host key: ssh-rsa; "
        "ciphers: aes128-ctr; MACs: hmac-sha1"
    )

# --- fleets mix profiles --------------------------------------------------------------------------


def test_fake_fleet_mixes_profiles_from_a_faults_file(tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("old: {ssh_profile: ios124}\nxe: {ssh_profile: modern, delay_ms: 5}\n", encoding="utf-8")
    specs = [
        FakeRouterSpec(name=name, snapshot=example_dir("insecure-cme"), password=PASSWORD, enable_secret=ENABLE_SECRET,
                       ssh_profile="ios15")
        for name in ("old", "xe", "branch")
    ]
    specs = apply_faults(specs, load_faults_file(faults, [s.name for s in specs]))
    assert [s.ssh_profile for s in specs] == ["ios124", "modern", "ios15"]
    with FakeFleet(specs) as fleet:
        bits = {name: router.host_key.get_bits() for name, router in fleet.routers.items()}
        assert bits == {"old": 1024, "xe": 2048, "branch": 2048}
        assert fleet.routers["xe"].host_key is fleet.host_key  # the fleet's key where the size allows
        inventory = fleet.write_inventory(
            tmp_path / "inventory.yaml", password_env="P", enable_secret_env="E", known_hosts=tmp_path / "kh"
        )
        assert "fake_ssh_profile: ios124" in inventory.read_text(encoding="utf-8")
        for name, expected in (("old", "ios124"), ("xe", "modern")):
            router = fleet.routers[name]
            snapshot = NetmikoCollector().collect(_collect(router, tmp_path), [SHOW_VERSION])
            assert snapshot.ssh is not None and snapshot.ssh.offered.kex == PROFILES[expected].kex


def test_fake_fleet_cli_mixes_profiles_and_a_fleet_audit_records_each(tmp_path: Path) -> None:
    """``cmelive fake-fleet --ssh-profile ios15`` with one router made ios124 and one modern by the
    faults file, audited by ``cmelive fleet`` from the inventory it wrote."""
    from .test_fake_fleet import fake_fleet, read_announcement, snapshots_dir

    faults = tmp_path / "faults.yaml"
    faults.write_text("br-west: {ssh_profile: ios124}\nbr-east: {ssh_profile: modern}\n", encoding="utf-8")
    inventory = tmp_path / "fleet.yaml"
    proc = fake_fleet(
        str(snapshots_dir(tmp_path)), "--ssh-profile", "ios15", "--faults-file", str(faults),
        "--inventory-out", str(inventory), "--password", PASSWORD, "--enable-secret", ENABLE_SECRET,
    )  # fmt: skip
    try:
        lines = read_announcement(proc)
        assert re.match(r"fake fleet: 3 routers on 127\.0\.0\.1, host keys: RSA 2048 SHA256:\S+, RSA 1024 SHA256:", lines[0])
        assert [line.split("  ssh: ")[1] for line in lines[1:4]] == ["modern", "ios15", "ios124"]
        env = {"CMELIVE_FLEET_PASSWORD": PASSWORD, "CMELIVE_FLEET_ENABLE_SECRET": ENABLE_SECRET}
        known_hosts = inventory.with_name("fleet.known_hosts")  # written beside the inventory
        run = cli(
            "fleet", str(inventory), "--out", str(tmp_path / "run"), "--no-history", "--judges", "0",
            "--known-hosts", str(known_hosts), env={**env, "XDG_STATE_HOME": str(tmp_path / "state")},
        )  # fmt: skip
    finally:
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        proc.communicate(timeout=30)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    report = json.loads((tmp_path / "run" / "report.json").read_text(encoding="utf-8"))
    seen = {
        device["name"]: (
            device["ssh"]["offered"]["kex"],
            device["ssh"]["host_key"]["bits"],
            next(r["status"] for r in device["results"] if r["check"] == ACC_11),
        )
        for device in report["devices"]
    }
    assert seen == {
        "br-east": (list(PROFILES["modern"].kex), 2048, "pass"),
        "br-plain": (list(PROFILES["ios15"].kex), 2048, "fail"),
        "br-west": (list(PROFILES["ios124"].kex), 1024, "fail"),
    }


def test_faults_file_refuses_an_unknown_profile(tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("r1:\n  ssh_profile: ios11\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"faults.yaml:2: r1: ssh_profile must be one of modern, ios15, ios124"):
        load_faults_file(faults, ["r1"])


def test_fake_router_cli_refuses_an_unknown_profile() -> None:
    result = cli("fake-router", str(example_dir("secure-cme")), "--ssh-profile", "ios11")
    assert result.returncode == 2
    assert "ios11" in result.stderr and "modern" in result.stderr


# --- a real OpenSSH server with IOS 15.x's lists ----------------------------------------------------

IOS15_SSHD = (
    "KexAlgorithms diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha1",
    "HostKeyAlgorithms ssh-rsa",
    "Ciphers aes128-ctr,aes192-ctr,aes256-ctr",
    "MACs hmac-sha1,hmac-sha1-96",
)


def _openssh_lacks(wanted: dict[str, tuple[str, ...]]) -> list[str]:
    """What of ``wanted`` (``ssh -Q`` query -> names) this OpenSSH build cannot offer.

    sshd has no query option; the ``ssh`` of the same installation is built from the same
    algorithm tables. Without it, nothing is known to be missing and sshd itself decides.
    """
    ssh = shutil.which("ssh")
    if ssh is None:
        return []
    missing: list[str] = []
    for query, names in wanted.items():
        listed = subprocess.run([ssh, "-Q", query], capture_output=True, text=True, timeout=30).stdout.split()
        missing += [name for name in names if name not in listed]
    return missing


@pytest.fixture(scope="module")
def ios15_openssh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from . import test_openssh_fake as openssh

    if not openssh.SSHD.is_file():
        pytest.skip(f"openssh-server is not installed ({openssh.SSHD} missing)")
    lacking = _openssh_lacks(
        {
            "kex": ("diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1"),
            "HostKeyAlgorithms": ("ssh-rsa",),
            "cipher": ("aes128-ctr", "aes192-ctr", "aes256-ctr"),
            "mac": ("hmac-sha1", "hmac-sha1-96"),
        }
    )
    if lacking:
        pytest.skip(f"this OpenSSH cannot offer IOS 15.x's algorithms: {', '.join(lacking)} (ssh -Q)")
    if os.geteuid() != 0:
        pytest.skip("needs root: creates a system user and runs its own sshd")
    shell = openssh._installed_shell()
    if shell is None:
        pytest.skip(f"the {openssh.SHELL_NAME} console script is not installed (pip install the project)")
    tmp = tmp_path_factory.mktemp("sshd-ios15")
    password = secrets.token_urlsafe(12)
    with openssh._machine_wide_lock():
        yield from openssh._serve_with_openssh(
            shell, tmp, password, host_key=("rsa", "-b", "2048"), extra_config=IOS15_SSHD
        )


def test_openssh_with_ios15_lists_is_audited(ios15_openssh: object, tmp_path: Path) -> None:
    from . import test_openssh_fake as openssh

    assert isinstance(ios15_openssh, openssh.OpensshRouter)
    target = Target(
        host="127.0.0.1",
        port=ios15_openssh.port,
        username=openssh.USER,
        password=ios15_openssh.password,
        enable_secret=openssh.ENABLE_SECRET,
        known_hosts=(tmp_path / "known_hosts",),
        accept_new_host_key=True,
        timeout=10,
    )
    snapshot = NetmikoCollector().collect(target, [SHOW_VERSION])
    ssh = snapshot.ssh
    assert ssh is not None and ssh.server_version.startswith("SSH-2.0-OpenSSH_")
    assert ssh.offered.kex == ("diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1")
    assert ssh.offered.host_key == ("ssh-rsa",)
    assert ssh.offered.ciphers == ("aes128-ctr", "aes192-ctr", "aes256-ctr")
    assert ssh.offered.macs == ("hmac-sha1", "hmac-sha1-96")
    assert ssh.negotiated == NEGOTIATED["ios15"]
    assert (ssh.host_key_type, ssh.host_key_bits) == ("ssh-rsa", 2048)
    result = next(r for r in audit_snapshot(snapshot).results if r.check == ACC_11)
    assert str(result.status) == "fail"
    assert result.message.startswith(
        "only SHA-1 key exchanges are offered (diffie-hellman-group-exchange-sha1, diffie-hellman-group14-sha1); "
        "only SHA-1 host-key signatures are offered (ssh-rsa)"
    )
    assert [e.text for e in result.evidence] == [
        f"server: {ssh.server_version}",
        "kex offered: diffie-hellman-group-exchange-sha1, diffie-hellman-group14-sha1",
        "host-key algorithms offered: ssh-rsa",
        "host key: ssh-rsa, 2048 bits",
        openssh.SHOW_VERSION.strip(),  # IOS 15.7(3)M8: nothing to configure, upgrade
    ]
    assert list(result.remediation) == [
        "ip ssh dh min size 2048",
        "! upgrade to IOS XE 16 or later: IOS 12.4/15.x offers no key exchange or host-key signature without SHA-1",
    ]

