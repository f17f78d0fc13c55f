"""Golden tests for the TextFSM templates, in ntc-templates' layout, plus meta-tests over them.

- ``tests/parsers/<command_with_underscores>/<name>.raw`` + ``<name>.yml`` (``parsed_sample:``):
  realistic outputs we wrote, one directory per command.
- ``tests/parsers/corpus/<corpus file stem>.yml``: golden records for the real outputs in
  ``../shared/corpus`` (the ``.raw`` side stays there; those tests skip when it is absent).
- Every damaged corpus file of a command we parse must give records or ``ParseError`` (which the
  audit turns into "unknown"), never another exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import textfsm
import yaml

from cmelive.commands import AUDIT_COMMANDS, RUNNING_CONFIG
from cmelive.parsing.tables import (
    ParseError,
    ntc_templates_dir,
    parse_table,
    strip_pasted_prompt,
    template_for,
    templates_dir,
)

from .conftest import CORPUS, REPO

GOLDEN = REPO / "tests" / "parsers"
CORPUS_GOLDEN = GOLDEN / "corpus"
OUR_TEMPLATES = templates_dir()

#: Corpus files that the router never printed as they are (see ../shared/corpus/SOURCES.md), with
#: what becomes of them. Files listed here need no golden .yml; every other corpus file of a
#: command we parse must have one. A damaged file that still parses reliably has a golden too.
DAMAGED: dict[str, str] = {
    "show_ephone_registered__ciscodoc-cmecr-a-autoassign-partial.txt": "partial: '.' elision lines -> ParseError",
    "show_ephone_registered__ciscodoc-cmecr-s2-wrapped80.txt": "80-column wrap mid-token -> ParseError",
    "show_ephone_offhook__ciscodoc-cmecr-s2-b-wrapped.txt": "80-column wrap ('9289)') -> ParseError",
    "show_ephone__gh-packettracer-cucme-lab-idle.txt": "Packet Tracer simulation; parses, golden kept",
    "show_ephone__gh-packettracer-cucme-lab-incall.txt": "Packet Tracer simulation; parses, golden kept",
    "show_telephony-service_all__ciscodoc-cmefiles-cme40-tabs.txt": "TAB indentation from HTML; parses, golden kept",
    "show_telephony-service_partial__ciscodoc-cmedirectory.txt": "partial, starts with '.' elisions -> ParseError",
    "show_telephony-service_partial__ciscodoc-esrst-105.txt": "partial, joined line skipped; golden kept",
    "show_telephony-service_partial__gh-ru-cme-notes-c3925-cme105.txt": "partial (cut after the header); golden kept",
    "show_ip_http_server_status__book-ccna60days-zh-classic-switch.txt": (
        "two lines joined by the publication: ntc-templates parses it but the idle time-out value "
        "is wrong, so no golden pins it"
    ),
}

#: Damaged files that must stop the template (ParseError -> unknown) rather than give records.
MUST_FAIL = {name for name, why in DAMAGED.items() if "-> ParseError" in why}

#: (template, state) pairs that deliberately skip unknown lines instead of ending in "^. -> Error":
#: show telephony-service prints an open-ended, release-dependent list of settings after its
#: header (the Start state, which requires the header, does end in Error).
OPEN_ENDED_STATES = {
    ("cisco_ios_show_telephony-service.textfsm", "Settings"),
    ("cisco_ios_show_telephony-service.textfsm", "Sections"),
}

#: Commands ntc-templates already parses well; we must not shadow them with our own template.
NTC_COMMANDS = ("show version", "show ip http server status")


# --- helpers -----------------------------------------------------------------------------------


def command_of_directory(directory: Path) -> str:
    return directory.name.replace("_", " ")


def command_of_corpus_file(stem: str) -> str:
    """``show_telephony-service_partial__src`` -> ``show telephony-service`` (SOURCES.md naming)."""
    command = stem.split("__")[0]
    command = command.removesuffix("_partial")
    return command.replace("_", " ")


def golden_raw_files() -> list[Path]:
    return sorted(p for p in GOLDEN.glob("*/*.raw") if p.parent != CORPUS_GOLDEN)


def corpus_golden_files() -> list[Path]:
    return sorted(CORPUS_GOLDEN.glob("*.yml"))


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("show_*.txt")) if CORPUS.is_dir() else []


def corpus_files_we_parse() -> list[Path]:
    return [p for p in corpus_files() if template_for(command_of_corpus_file(p.stem)) is not None]


def load_parsed_sample(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and "parsed_sample" in data, f"{path}: no parsed_sample"
    sample = data["parsed_sample"]
    assert isinstance(sample, list)
    return sample


def assert_matches_golden(processed: list[dict[str, Any]], reference: list[dict[str, Any]]) -> None:
    """ntc-templates' three checks: same number of records, same keys, same values."""
    assert len(processed) == len(reference), f"{len(processed)} records, golden has {len(reference)}"
    for index, (got, want) in enumerate(zip(processed, reference)):
        diff = set(got) ^ set(want)
        assert not diff, f"record #{index}: key differences {sorted(diff)}"
        for key in want:
            assert got[key] == want[key], f"record #{index}, key {key!r}"


def index_rows(directory: Path) -> list[tuple[str, str]]:
    """(template, command) of every row of an ntc-format index, in file order."""
    rows: list[tuple[str, str]] = []
    header_seen = False
    for line in (directory / "index").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split(",", 3)]
        if not header_seen:
            assert fields == ["Template", "Hostname", "Platform", "Command"], line
            header_seen = True
            continue
        rows.append((fields[0], fields[3]))
    return rows


def our_templates() -> list[Path]:
    return sorted(OUR_TEMPLATES.glob("*.textfsm"))


def template_states(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(state name, rule lines) of a template, comments dropped."""
    state: str | None = None
    rules: list[str] = []
    in_values = True
    for line in path.read_text(encoding="utf-8").splitlines():
        if in_values:
            if not line.strip():
                in_values = False
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if state is not None:
                yield state, rules
            state, rules = line.strip(), []
        else:
            rules.append(line.strip())
    if state is not None:
        yield state, rules


def golden_records_by_template() -> dict[Path, list[dict[str, Any]]]:
    records: dict[Path, list[dict[str, Any]]] = {}
    for raw in golden_raw_files():
        template = template_for(command_of_directory(raw.parent))
        assert template is not None
        records.setdefault(template, []).extend(load_parsed_sample(raw.with_suffix(".yml")))
    for golden in corpus_golden_files():
        template = template_for(command_of_corpus_file(golden.stem))
        assert template is not None, golden
        records.setdefault(template, []).extend(load_parsed_sample(golden))
    return records


# --- golden tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", golden_raw_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_raw_output_matches_golden(raw: Path) -> None:
    processed = parse_table(command_of_directory(raw.parent), raw.read_text(encoding="utf-8"))
    assert_matches_golden(processed, load_parsed_sample(raw.with_suffix(".yml")))


@pytest.mark.parametrize("golden", corpus_golden_files(), ids=lambda p: p.stem)
def test_corpus_output_matches_golden(golden: Path) -> None:
    raw = CORPUS / f"{golden.stem}.txt"
    if not raw.is_file():
        pytest.skip(f"corpus file not present: {raw}")
    processed = parse_table(command_of_corpus_file(golden.stem), raw.read_text(encoding="utf-8"))
    assert_matches_golden(processed, load_parsed_sample(golden))


@pytest.mark.parametrize("raw", corpus_files_we_parse() or [None], ids=lambda p: p.stem if p else "absent")
def test_corpus_output_parses_or_is_unknown(raw: Path | None) -> None:
    if raw is None:
        pytest.skip(f"shared corpus not present at {CORPUS}")
    command = command_of_corpus_file(raw.stem)
    try:
        records = parse_table(command, raw.read_text(encoding="utf-8"))
    except ParseError:
        assert raw.name in DAMAGED, f"{raw.name} is listed clean in SOURCES.md but does not parse"
        return
    assert raw.name not in MUST_FAIL, f"{raw.name} is damaged in a way that must not give records: {records}"
    assert isinstance(records, list)


def test_every_clean_corpus_file_we_parse_has_a_golden(corpus_dir: Path) -> None:
    missing = [
        p.name
        for p in corpus_files_we_parse()
        if p.name not in DAMAGED and not (CORPUS_GOLDEN / f"{p.stem}.yml").is_file()
    ]
    assert missing == []


def test_damaged_list_names_real_corpus_files(corpus_dir: Path) -> None:
    assert sorted(set(DAMAGED) - {p.name for p in corpus_dir.glob("*.txt")}) == []
    assert sorted(name for name in MUST_FAIL if (CORPUS_GOLDEN / name).with_suffix(".yml").is_file()) == []


def test_every_corpus_golden_has_its_corpus_file(corpus_dir: Path) -> None:
    assert [g.name for g in corpus_golden_files() if not (corpus_dir / f"{g.stem}.txt").is_file()] == []


# --- meta-tests (ntc-templates' test_testcases_exists, test_capture_group, test_index_order) ------


def test_every_raw_has_a_yml_and_every_yml_a_raw() -> None:
    raws = {p.with_suffix("") for p in golden_raw_files()}
    ymls = {p.with_suffix("") for p in GOLDEN.glob("*/*.yml") if p.parent != CORPUS_GOLDEN}
    assert sorted(map(str, raws ^ ymls)) == []


def test_every_golden_directory_is_a_command_with_a_template() -> None:
    for directory in sorted(p for p in GOLDEN.iterdir() if p.is_dir() and p != CORPUS_GOLDEN):
        assert template_for(command_of_directory(directory)) is not None, directory.name


def test_index_lists_exactly_the_template_files() -> None:
    listed = [template for template, _ in index_rows(OUR_TEMPLATES)]
    assert len(listed) == len(set(listed)), "a template is listed twice"
    assert sorted(listed) == [p.name for p in our_templates()]


def test_index_is_ordered_as_ntc_templates_requires() -> None:
    """Platforms alphabetical and grouped; within one, names longest first, ties alphabetical."""
    platforms_seen: list[str] = []
    previous: tuple[str, str] | None = None
    for template, _ in index_rows(OUR_TEMPLATES):
        match = re.match(r"^(cisco_ios)_(.+)$", template)
        assert match, f"{template}: not a cisco_ios template"
        platform, name = match.groups()
        if platform not in platforms_seen:
            platforms_seen.append(platform)
            assert platforms_seen == sorted(platforms_seen), f"platform {platform} out of order"
        elif previous is not None:
            assert previous[0] == platform, f"{template}: platform {platform} is not grouped"
            assert len(name) <= len(previous[1]), f"{template} is longer than the row before it"
            if len(name) == len(previous[1]):
                assert name > previous[1], f"{template} should come before {previous[1]}"
        previous = (platform, name)


@pytest.mark.parametrize("template", our_templates(), ids=lambda p: p.stem)
def test_template_has_a_golden_test(template: Path) -> None:
    assert template in golden_records_by_template(), f"{template.name} has no golden test"


@pytest.mark.parametrize("template", our_templates(), ids=lambda p: p.stem)
def test_every_value_is_captured_in_some_golden_sample(template: Path) -> None:
    with template.open(encoding="utf-8") as handle:
        values = [v.lower() for v in textfsm.TextFSM(handle).header]
    records = golden_records_by_template()[template]
    unused = [v for v in values if not any(record.get(v) for record in records)]
    assert unused == [], f"{template.name}: values never filled by a golden sample"


@pytest.mark.parametrize("template", our_templates(), ids=lambda p: p.stem)
def test_template_follows_ntc_format(template: Path) -> None:
    with template.open(encoding="utf-8") as handle:
        fsm = textfsm.TextFSM(handle)
    assert all(name.isupper() for name in fsm.header), fsm.header
    states = dict(template_states(template))
    assert "Start" in states
    for state, rules in states.items():
        if (template.name, state) in OPEN_ENDED_STATES:
            continue
        assert rules and rules[-1] == "^. -> Error", f"{template.name}: state {state} lacks ^. -> Error"
        assert r"^\s*$$" in rules, f"{template.name}: state {state} does not accept blank lines"


def test_open_ended_states_exist() -> None:
    for name, state in OPEN_ENDED_STATES:
        assert state in dict(template_states(OUR_TEMPLATES / name)), (name, state)


def test_every_audit_command_has_a_template_and_a_golden() -> None:
    with_goldens = {command_of_directory(p.parent) for p in golden_raw_files()}
    for command in AUDIT_COMMANDS:
        if command == RUNNING_CONFIG:
            continue  # parsed by cmelive.parsing.running_config, not TextFSM
        assert template_for(command) is not None, command
        assert command in with_goldens, f"{command}: no golden test under tests/parsers/"


@pytest.mark.parametrize("command", NTC_COMMANDS)
def test_ntc_templates_commands_are_not_shadowed(command: str) -> None:
    template = template_for(command)
    assert template is not None and template.parent == ntc_templates_dir()


@pytest.mark.parametrize(
    ("block", "stops_at"),
    [(1, "Associated Trustpoints: cme-sccp cme-tftp"), (2, "Router Self-Signed Certificate")],
)
def test_our_pki_template_replaces_one_that_fails_on_cme_output(block: int, stops_at: str) -> None:
    """Why parsers/ has its own show crypto pki certificates: ntc-templates 9.3.0 stops on it.

    When this starts failing, ntc-templates parses these lines: drop our template.
    """
    raw = (GOLDEN / "show_crypto_pki_certificates" / "cme_ios_ca_and_self_signed.raw").read_text(encoding="utf-8")
    text = strip_pasted_prompt(raw).split("\n\n")[block]
    ntc_template = ntc_templates_dir() / "cisco_ios_show_crypto_pki_certificates.textfsm"
    with ntc_template.open(encoding="utf-8") as handle:
        fsm = textfsm.TextFSM(handle)
    with pytest.raises(textfsm.TextFSMError, match=re.escape(stops_at)):
        fsm.ParseText(text)
    assert len(parse_table("show crypto pki certificates", text)) == 1


def test_pki_certificates_is_parsed_by_our_template() -> None:
    assert template_for("show crypto pki certificates") == OUR_TEMPLATES / "cisco_ios_show_crypto_pki_certificates.textfsm"


# --- behaviour of parse_table and the templates ------------------------------------------------


def strict_golden_raws() -> list[Path]:
    """Golden raws of our templates whose every state rejects unknown lines."""
    open_ended = {name for name, _ in OPEN_ENDED_STATES}
    result = []
    for raw in golden_raw_files():
        template = template_for(command_of_directory(raw.parent))
        if template is not None and template.parent == OUR_TEMPLATES and template.name not in open_ended:
            result.append(raw)
    return result


@pytest.mark.parametrize("raw", strict_golden_raws(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_an_unknown_line_makes_the_template_fail_loudly(raw: Path) -> None:
    text = raw.read_text(encoding="utf-8").rstrip("\n") + "\n%%% a line no router prints here\n"
    with pytest.raises(ParseError, match="State Error raised"):
        parse_table(command_of_directory(raw.parent), text)


def test_telephony_service_requires_its_header() -> None:
    with pytest.raises(ParseError):
        parse_table("show telephony-service", "max-ephones 24\nmax-dn 48\n")
    assert parse_table("show telephony-service", "") == []


def test_telephony_service_ignores_settings_inside_later_sections() -> None:
    text = "CONFIG (Version=8.6)\n=====================\nVersion 8.6\n\nephone-dn 1\nmax-dn 999\n"
    assert [(r["version"], r["max_dn"]) for r in parse_table("show telephony-service", text)] == [("8.6", "")]


def test_unknown_command_is_a_parse_error_that_says_no_template() -> None:
    with pytest.raises(ParseError, match="no template"):
        parse_table("show voice register global", "Config:\n")


@pytest.mark.parametrize(
    ("first_line", "stripped"),
    [
        ("Router#show ephone registered", True),
        ("branch-2801#sh ephone registered", True),
        ("show ephone registered", True),  # pasted command without its prompt
        ("sh ep reg", True),
        ("show ephone summary", False),  # another command: not a pasted line of this one
        ("ephone-1 Mac:0014.1C48.E71A TCP socket:[3] activeLine:0 REGISTERED", False),
    ],
)
def test_pasted_prompt_or_command_line_is_dropped(first_line: str, stripped: bool) -> None:
    text = f"\n{first_line}\nsecond line\n"
    result = strip_pasted_prompt(text, "show ephone registered")
    assert (first_line not in result) is stripped


def test_crlf_line_ends_parse_like_lf() -> None:
    raw = (GOLDEN / "show_ctl-client" / "cme_router_two_sast.raw").read_text(encoding="utf-8")
    assert parse_table("show ctl-client", raw.replace("\n", "\r\n")) == parse_table("show ctl-client", raw)


SECRET_IN_RAW = re.compile(r"Password:\s*(\S+)|(?:local|remote) key:\s*(\S+)")


@pytest.mark.parametrize(
    "raw",
    [p for p in golden_raw_files() if SECRET_IN_RAW.search(p.read_text(encoding="utf-8"))],
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_phone_passwords_and_srtp_keys_are_never_captured(raw: Path) -> None:
    text = raw.read_text(encoding="utf-8")
    secrets = {s for match in SECRET_IN_RAW.finditer(text) for s in match.groups() if s}
    assert secrets
    dumped = repr(parse_table(command_of_directory(raw.parent), text))
    assert [s for s in secrets if s in dumped] == []


def test_ephone_lists_stay_aligned() -> None:
    """BUTTONS, DNS and NUMBERS are parallel lists: button i shows dn i with number i."""
    for template, records in golden_records_by_template().items():
        if template.name != "cisco_ios_show_ephone_registered.textfsm":
            continue
        for record in records:
            assert len(record["buttons"]) == len(record["dns"]) == len(record["numbers"]), record


@pytest.mark.parametrize(
    ("command", "template"),
    [
        ("show ephone registered", "cisco_ios_show_ephone_registered.textfsm"),
        ("sh ep reg", "cisco_ios_show_ephone_registered.textfsm"),
        ("show ephone", "cisco_ios_show_ephone_registered.textfsm"),
        ("show ephone unregistered", "cisco_ios_show_ephone_registered.textfsm"),
        ("show ephone offhook", "cisco_ios_show_ephone_registered.textfsm"),
        ("show ephone tapiclients", "cisco_ios_show_ephone_registered.textfsm"),
        ("show ephone registered summary", None),  # a table, not the per-phone layout
        ("show ephone summary", None),
        ("show ephone login", None),
        ("show telephony-service", "cisco_ios_show_telephony-service.textfsm"),
        ("sh telephony", "cisco_ios_show_telephony-service.textfsm"),
        ("show telephony-service all", "cisco_ios_show_telephony-service.textfsm"),
        ("show telephony-service tftp-bindings", None),
        ("show ctl-client", "cisco_ios_show_ctl-client.textfsm"),
        ("show capf-server summary", "cisco_ios_show_capf-server_summary.textfsm"),
        ("show capf-server sessions", "cisco_ios_show_capf-server_sessions.textfsm"),
        ("show capf-server auth-string", None),
        ("sh cry key mypubkey rsa", "cisco_ios_show_crypto_key_mypubkey_rsa.textfsm"),
        ("show control-plane host open-ports", "cisco_ios_show_control-plane_host_open-ports.textfsm"),
        ("show crypto pki certificates", "cisco_ios_show_crypto_pki_certificates.textfsm"),
    ],
)
def test_command_maps_to_template(command: str, template: str | None) -> None:
    found = template_for(command)
    if template is None:
        assert found is None or found.parent != OUR_TEMPLATES, found
    else:
        assert found == OUR_TEMPLATES / template
