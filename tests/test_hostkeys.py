"""Host-key verification: unknown keys refused, accept-new recorded, changed keys always refused."""

from __future__ import annotations

import stat
from pathlib import Path

import paramiko
import pytest

from cmelive.collect.hostkeys import (
    KnownHosts,
    cmelive_known_hosts_file,
    default_known_hosts_files,
    host_key_name,
    read_known_hosts,
    user_known_hosts_file,
)
from cmelive.errors import HostKeyError

PORT = 2222


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake HOME and XDG_STATE_HOME under tmp: tests never touch the real known_hosts files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return home


@pytest.fixture(scope="module")
def key_a() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


@pytest.fixture(scope="module")
def key_b() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


@pytest.fixture(scope="module")
def rsa_key() -> paramiko.PKey:
    return paramiko.RSAKey.generate(1024)


def entry_line(name: str, key: paramiko.PKey) -> str:
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def test_default_files_honour_xdg_state_home(tmp_path: Path, isolated_home: Path) -> None:
    assert cmelive_known_hosts_file() == tmp_path / "state" / "cmelive" / "known_hosts"
    assert user_known_hosts_file() == isolated_home / ".ssh" / "known_hosts"
    assert default_known_hosts_files() == (cmelive_known_hosts_file(), user_known_hosts_file())


def test_default_state_dir_without_xdg(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_STATE_HOME")
    assert cmelive_known_hosts_file() == isolated_home / ".local" / "state" / "cmelive" / "known_hosts"
    # A relative XDG_STATE_HOME is invalid per the XDG spec and ignored.
    monkeypatch.setenv("XDG_STATE_HOME", "relative/dir")
    assert cmelive_known_hosts_file() == isolated_home / ".local" / "state" / "cmelive" / "known_hosts"


def test_host_key_name_brackets_non_default_ports() -> None:
    assert host_key_name("10.0.0.1", 22) == "10.0.0.1"
    assert host_key_name("127.0.0.1", PORT) == f"[127.0.0.1]:{PORT}"


def test_unknown_key_is_refused_with_its_fingerprint(key_a: paramiko.PKey) -> None:
    known = KnownHosts()
    with pytest.raises(HostKeyError) as caught:
        known.verify("127.0.0.1", PORT, key_a)
    message = str(caught.value)
    assert f"127.0.0.1:{PORT}" in message
    assert "ecdsa-sha2-nistp256" in message
    assert key_a.fingerprint in message and key_a.fingerprint.startswith("SHA256:")
    assert "--accept-new-host-key" in message
    assert not cmelive_known_hosts_file().exists()


def test_accept_new_records_bracketed_entry_in_cmelive_file(key_a: paramiko.PKey) -> None:
    KnownHosts(accept_new=True).verify("127.0.0.1", PORT, key_a)
    recorded = cmelive_known_hosts_file()
    assert recorded.read_text() == entry_line(f"[127.0.0.1]:{PORT}", key_a)
    assert stat.S_IMODE(recorded.stat().st_mode) == 0o600
    assert not user_known_hosts_file().exists()  # ~/.ssh is only ever read
    # Known from now on, without --accept-new-host-key.
    KnownHosts().verify("127.0.0.1", PORT, key_a)


def test_changed_key_is_refused_even_with_accept_new(key_a: paramiko.PKey, key_b: paramiko.PKey) -> None:
    recorded = cmelive_known_hosts_file()
    recorded.parent.mkdir(parents=True)
    recorded.write_text("# comment\n" + entry_line(f"[127.0.0.1]:{PORT}", key_a))
    with pytest.raises(HostKeyError) as caught:
        KnownHosts(accept_new=True).verify("127.0.0.1", PORT, key_b)
    message = str(caught.value)
    assert "HOST KEY HAS CHANGED" in message
    assert f"expected ecdsa-sha2-nistp256 key {key_a.fingerprint}" in message
    assert f"offered ecdsa-sha2-nistp256 key {key_b.fingerprint}" in message
    assert f"{recorded}:2" in message
    assert recorded.read_text().count("\n") == 2  # nothing was recorded


def test_changed_key_type_is_refused(rsa_key: paramiko.PKey, key_a: paramiko.PKey) -> None:
    recorded = cmelive_known_hosts_file()
    recorded.parent.mkdir(parents=True)
    recorded.write_text(entry_line(f"[127.0.0.1]:{PORT}", rsa_key))
    with pytest.raises(HostKeyError, match="HOST KEY TYPE HAS CHANGED") as caught:
        KnownHosts(accept_new=True).verify("127.0.0.1", PORT, key_a)
    assert f"expected ssh-rsa key {rsa_key.fingerprint}" in str(caught.value)


def test_hashed_entries_match(isolated_home: Path, key_a: paramiko.PKey, key_b: paramiko.PKey) -> None:
    ssh_known = isolated_home / ".ssh" / "known_hosts"
    ssh_known.parent.mkdir()
    hashed = paramiko.HostKeys.hash_host(f"[127.0.0.1]:{PORT}")
    ssh_known.write_text(entry_line(hashed, key_a))
    KnownHosts().verify("127.0.0.1", PORT, key_a)
    with pytest.raises(HostKeyError, match=f"{ssh_known}:1"):
        KnownHosts().verify("127.0.0.1", PORT, key_b)
    # The hash is of "[host]:port": another port or host is a different, unknown entry.
    with pytest.raises(HostKeyError, match="not known"):
        KnownHosts().verify("127.0.0.1", PORT + 1, key_a)
    with pytest.raises(HostKeyError, match="not known"):
        KnownHosts().verify("127.0.0.2", PORT, key_a)


def test_port_22_entries_use_the_bare_host(isolated_home: Path, key_a: paramiko.PKey) -> None:
    ssh_known = isolated_home / ".ssh" / "known_hosts"
    ssh_known.parent.mkdir()
    ssh_known.write_text(entry_line("router1,10.1.1.1", key_a))
    KnownHosts().verify("10.1.1.1", 22, key_a)
    KnownHosts().verify("ROUTER1", 22, key_a)  # host names compare case-insensitively
    with pytest.raises(HostKeyError, match="not known"):
        KnownHosts().verify("10.1.1.1", 2222, key_a)


def test_wildcards_and_negations(tmp_path: Path, key_a: paramiko.PKey) -> None:
    given = tmp_path / "kh"
    given.write_text(entry_line("*.voice.example,!lab.voice.example", key_a))
    known = KnownHosts([given])
    known.verify("cme1.voice.example", 22, key_a)
    with pytest.raises(HostKeyError, match="not known"):
        known.verify("lab.voice.example", 22, key_a)


def test_explicit_known_hosts_replaces_defaults(
    tmp_path: Path, isolated_home: Path, key_a: paramiko.PKey
) -> None:
    ssh_known = isolated_home / ".ssh" / "known_hosts"
    ssh_known.parent.mkdir()
    ssh_known.write_text(entry_line(f"[127.0.0.1]:{PORT}", key_a))
    given = tmp_path / "inventory_known_hosts"
    with pytest.raises(HostKeyError, match=str(given)):
        KnownHosts([given]).verify("127.0.0.1", PORT, key_a)
    KnownHosts([given], accept_new=True).verify("127.0.0.1", PORT, key_a)
    assert given.read_text() == entry_line(f"[127.0.0.1]:{PORT}", key_a)
    assert not cmelive_known_hosts_file().exists()


def test_any_matching_entry_is_enough(tmp_path: Path, key_a: paramiko.PKey, key_b: paramiko.PKey) -> None:
    # As in OpenSSH, a stale entry does not hide a current one further down.
    given = tmp_path / "kh"
    given.write_text(entry_line("[127.0.0.1]:2222", key_b) + entry_line("[127.0.0.1]:2222", key_a))
    KnownHosts([given]).verify("127.0.0.1", PORT, key_a)


def test_unusable_lines_are_skipped_and_line_numbers_kept(tmp_path: Path, key_a: paramiko.PKey) -> None:
    given = tmp_path / "kh"
    given.write_text(
        "\n"
        "# a comment\n"
        "@cert-authority *.example ssh-rsa AAAAB3NzaC1yc2E=\n"
        "garbage\n"
        "host ssh-unknown-type AAAA\n"
        "host ssh-rsa !!!not-base64!!!\n"
        "no-final-newline " + f"{key_a.get_name()} {key_a.get_base64()}"
    )
    entries = read_known_hosts(given)
    assert [(e.line, e.patterns) for e in entries] == [(7, ("no-final-newline",))]
    KnownHosts([given], accept_new=True).verify("other", 22, key_a)
    assert given.read_text().endswith(f"{key_a.get_base64()}\nother {key_a.get_name()} {key_a.get_base64()}\n")


def test_entries_for_keeps_file_order_across_plain_and_patterned_lines(
    tmp_path: Path, key_a: paramiko.PKey, key_b: paramiko.PKey, rsa_key: paramiko.PKey
) -> None:
    """Plain names are looked up by name (a fleet's file has a line per router); hashed and
    wildcard lines are matched one by one; together they come back in file order."""
    name = f"[10.9.0.5]:{PORT}"
    given = tmp_path / "kh"
    given.write_text(
        "".join(entry_line(f"[10.9.0.{i}]:{PORT}", key_b) for i in range(1, 5))
        + entry_line(paramiko.HostKeys.hash_host(name), key_a)  # line 5
        + entry_line(f"other,{name.upper()}", rsa_key)  # line 6: names compare case-insensitively
        + entry_line("[10.9.0.*]:2222,![10.9.0.9]:2222", key_b)  # line 7
        + entry_line(name, key_a)  # line 8
    )
    found = KnownHosts([given]).entries_for("10.9.0.5", PORT)
    assert [entry.line for entry in found] == [5, 6, 7, 8]
    assert [entry.line for entry in KnownHosts([given]).entries_for("10.9.0.9", PORT)] == []
    assert [entry.line for entry in KnownHosts([given]).entries_for("10.9.0.2", PORT)] == [2, 7]


def test_a_revoked_key_is_refused_even_when_accepting_new_keys(tmp_path: Path, key_a: paramiko.PKey) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"@revoked * {key_a.get_name()} {key_a.get_base64()}\n")
    hosts = KnownHosts([known], accept_new=True)
    with pytest.raises(HostKeyError, match=rf"REVOKED .* marked @revoked at {known}:1"):
        hosts.verify("127.0.0.5", 22, key_a)
    assert "127.0.0.5" not in known.read_text()  # not recorded


def test_a_revoked_key_is_refused_even_when_also_listed(
    tmp_path: Path, key_a: paramiko.PKey
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(entry_line("127.0.0.5", key_a) + f"@revoked 127.0.0.5 {key_a.get_name()} {key_a.get_base64()}\n")
    with pytest.raises(HostKeyError, match="REVOKED"):
        KnownHosts([known]).verify("127.0.0.5", 22, key_a)


def test_a_revoked_key_does_not_hide_the_good_one(tmp_path: Path, key_a: paramiko.PKey, key_b: paramiko.PKey) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(entry_line("127.0.0.5", key_b) + f"@revoked * {key_a.get_name()} {key_a.get_base64()}\n")
    KnownHosts([known]).verify("127.0.0.5", 22, key_b)


def test_a_cert_authority_alone_is_refused_clearly(tmp_path: Path, key_a: paramiko.PKey, key_b: paramiko.PKey) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"@cert-authority 127.0.0.* {key_a.get_name()} {key_a.get_base64()}\n")
    with pytest.raises(HostKeyError, match=r"certificate authority \(@cert-authority\).*does not verify host certificates"):
        KnownHosts([known], accept_new=True).verify("127.0.0.5", 22, key_b)
