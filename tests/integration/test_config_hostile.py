"""Config input an attacker or a clumsy operator might give: special files, huge or deeply nested
YAML, control characters, malformed addresses and database URLs. Each is one located error (exit 2),
never a traceback, a hang or a value that validates and fails later."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from failover.config import MAX_CONFIG_BYTES, MAX_DEPTH, config_from_text, load_config
from failover.errors import ConfigError
from failover.schema import parse_duration
from tests.fixtures.config_text import BASE, line_of, problems


def _validate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`failover validate` in a child with a timeout, so a read that blocks fails the test, not the run."""
    return subprocess.run(
        [sys.executable, "-m", "failover", "validate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k != "FAILOVER_CONFIG"},
    )


# ------------------------------------------------------------------------------------ special files


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_not_a_config_file(tmp_path: Path, device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"{device} missing")
    with pytest.raises(ConfigError) as info:
        load_config(device)
    assert str(info.value) == f"{device}: not a regular file (a character device): expected a YAML file"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "failover.yaml"
    os.mkfifo(fifo)
    proc = _validate("-c", str(fifo), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == f"error: {fifo}: not a regular file (a FIFO): expected a YAML file\n"


def test_a_device_from_the_command_line_exits_2_at_once(tmp_path: Path) -> None:
    proc = _validate("-c", "/dev/zero", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr
    assert proc.stderr == "error: /dev/zero: not a regular file (a character device): expected a YAML file\n"


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "failover.yaml"
    with big.open("wb") as f:  # sparse: costs no disk
        f.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError, match=r"larger than 10 MB: not a config file"):
        load_config(big)
    with pytest.raises(ConfigError, match=r"larger than 10 MB"):
        config_from_text("#" * (MAX_CONFIG_BYTES + 1), "big.yaml")


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text(BASE)
    link = tmp_path / "failover.yaml"
    link.symlink_to(real)
    assert load_config(link).workloads[0].name == "checkout"


# ------------------------------------------------------------------------------------ YAML shape


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 100_000])
def test_deep_flow_nesting_is_one_located_error(depth: int) -> None:
    text = "accounts: []\nworkloads: " + "[" * depth + "]" * depth + "\n"
    assert problems(text) == [f"cfg.yaml:2: nested deeper than {MAX_DEPTH} levels"]


def test_deep_block_nesting_is_one_located_error() -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(500))
    assert problems(text) == [f"cfg.yaml:{MAX_DEPTH}: nested deeper than {MAX_DEPTH} levels"]


def test_nesting_at_the_limit_is_an_ordinary_config() -> None:
    # expect_json takes any value: nest it close to the limit and the config still loads
    inner = "[" * (MAX_DEPTH - 10) + "1" + "]" * (MAX_DEPTH - 10)
    endpoint = f"{{url: 'https://a', expect_json: {{'$.a': {inner}}}}}"
    text = BASE.replace(
        "        select: {tags: {app: checkout}}\n      - name: central",
        f"        select: {{tags: {{app: checkout}}}}\n        endpoints: [{endpoint}]\n      - name: central",
    )
    assert config_from_text(text).workloads[0].sites[0].endpoints[0].expect_json is not None


def test_aliases_cannot_nest_past_the_limit() -> None:
    half = MAX_DEPTH // 2 + 2
    text = f"a: &a {'[' * half}1{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    found = problems(text)
    assert any(f": b{'[0]' * half}" in p and f"nested deeper than {MAX_DEPTH} levels" in p for p in found), found


def test_a_long_chain_of_merge_keys_is_resolved_without_recursion() -> None:
    items = ["k0: &a0 {max_concurrency: 4}"] + [f"k{i}: &a{i} {{<<: *a{i - 1}}}" for i in range(1, 3000)]
    text = "scratch: {" + ", ".join(items) + "}\naccounts:\n  - <<: *a2999\n    name: aws\n    provider: aws\n"
    assert problems(text)[0].startswith("cfg.yaml:1: scratch: unknown field")
    ok = "x: &x {max_concurrency: 4}\ny: &y {<<: *x}\n"
    with pytest.raises(ConfigError) as info:
        config_from_text(ok + "accounts: [{<<: *y, name: aws, provider: aws, regions: [us-east-1]}]\n", "cfg.yaml")
    assert [p.split(": ")[1] for p in info.value.problems] == ["x", "y"]  # only the unknown keys


def test_merge_keys_keep_yaml_precedence() -> None:
    text = textwrap.dedent(
        """\
        defaults: &d {provider: gcp, regions: [eu-west-1]}
        aws: &a {provider: aws, regions: [us-east-1]}
        """
    )
    account = "accounts: [{<<: [*a, *d], name: one}, {<<: *d, <<: *a, name: two}, {<<: *d, provider: aws, name: t}]\n"
    with pytest.raises(ConfigError) as info:
        config_from_text(text + account, "cfg.yaml")
    # only the two scratch keys are wrong: every account resolved to provider aws with its regions
    assert [p.split(": ")[1] for p in info.value.problems] == ["defaults", "aws"]


def test_merging_something_that_is_not_a_mapping_is_located() -> None:
    assert problems("accounts: [{<<: 3, name: a}]\n") == [
        "cfg.yaml:1: accounts[0]: expected a mapping or a list of mappings after <<:"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!!int " + "9" * 5000, "cannot read '9999"),
        ("!!timestamp '2026-13-45'", "cannot read '2026-13-45' as timestamp"),
        ("!!float 'x'", "cannot read 'x' as float"),
    ],
)
def test_a_scalar_yaml_cannot_build_is_located(value: str, expected: str) -> None:
    [problem] = problems(f"vantage: {value}\n")
    assert problem.startswith("cfg.yaml:1: vantage: ") and expected in problem
    assert "\n" not in problem


def test_characters_yaml_forbids_give_one_line() -> None:
    [problem] = problems("vantage: a\x00b\n")
    assert problem.startswith("cfg.yaml: invalid YAML: unacceptable character #x0000") and "\n" not in problem


# ------------------------------------------------------------------------------------ control characters


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("accounts:", 'vantage: "de\\0mo"\naccounts:'), "vantage"),
        (("accounts:", 'database: "sqlite:///f\\x1b[2J.db"\naccounts:'), "database"),
        (("regions: [us-east-1]", 'regions: [us-east-1]\n    profile: "a\\nb"'), "accounts[0].profile"),
        (("owners: [payments-oncall@example.com]", 'owners: ["pay\\u202Eed@example.com"]'), "workloads[0].owners"),
        (
            ("select: {tags: {app: checkout}}", 'select: {tags: {app: "check\\tout"}}'),
            "workloads[0].sites[0].select.tags",
        ),
        (
            ("select: {tags: {app: checkout}}", 'select: {tags: {"a\\x07pp": checkout}}'),
            "workloads[0].sites[0].select.tags",
        ),
        (("regions: [us-east-1]", 'regions: ["us-east-1\\r"]'), "accounts[0].regions"),
        (("project: acme-dr", 'project: "acme\\x9bdr"'), "accounts[1].project"),
        (
            ("accounts:", 'mail: {from: a@example.com, smtp: {host: h}, subject_prefix: "[f]\\r\\nBcc: x"}\naccounts:'),
            "mail.subject_prefix",
        ),
    ],
)
def test_control_characters_are_refused_in_every_config_string(edit: tuple[str, str], field: str) -> None:
    text = BASE.replace(*edit, 1)
    [problem] = problems(text)
    assert f": {field}: control character " in problem and "is not allowed" in problem


def test_a_control_character_from_an_env_variable_is_refused_without_echoing_the_value() -> None:
    text = "vantage: ${VANTAGE}\n" + BASE
    [problem] = problems(text, env={"VANTAGE": "s3cret\x1b]0;owned\x07"})
    assert problem == "cfg.yaml:1: vantage: control character '\\x1b' at position 7 is not allowed"


def test_printable_unicode_is_kept() -> None:
    text = BASE.replace("project: acme-dr", "project: acme-dr\n    profile: équipe-日本")
    assert config_from_text(text).accounts[1].profile == "équipe-日本"


# ------------------------------------------------------------------------------------ host:port


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ("not a host:port", "expected an IP address or a host name, got 'not a host'"),
        ("ns1.example.com:99999", "port must be 1-65535"),
        ("ns1.example.com:", "port must be 1-65535"),
        ("[::1", "expected host:port or [ipv6]:port or a host"),
        ("[ns1.example.com]:53", "expected an IPv6 address inside [ ]"),
        ("1:2:3", "expected an IPv6 address, got '1:2:3'"),
        ("-bad-.example.com", "expected an IP address or a host name"),
        ("a..b", "expected an IP address or a host name"),
        ("", "expected host:port or [ipv6]:port or a host"),
        ("x" * 64 + ".example.com", "expected an IP address or a host name"),
    ],
)
def test_dns_servers_must_be_host_and_port(server: str, message: str) -> None:
    text = BASE.replace("    targets:", f"    dns: {{name: www.example.com, nameservers: ['{server}']}}\n    targets:")
    [problem] = problems(text)
    assert problem.startswith(f"cfg.yaml:{line_of(text, 'nameservers')}: workloads[0].dns.nameservers[0]: ")
    assert message in problem


@pytest.mark.parametrize(
    "server",
    ["192.0.2.1", "192.0.2.1:5353", "[2001:db8::1]:53", "2001:db8::1", "ns1.example.com", "ns1.example.com.:53"],
)
def test_dns_server_forms_that_are_accepted(server: str) -> None:
    text = BASE.replace(
        "    targets:",
        f"    dns: {{name: www.example.com, nameservers: ['{server}'], resolver: '{server}'}}\n    targets:",
    )
    dns = config_from_text(text).workloads[0].dns
    assert dns is not None and dns.nameservers == [server] and dns.resolver == server


def test_resolver_is_checked_like_the_nameservers() -> None:
    text = BASE.replace("    targets:", "    dns: {name: www.example.com, resolver: '127.0.0.1:0'}\n    targets:")
    line = line_of(text, "resolver")
    assert problems(text) == [
        f"cfg.yaml:{line}: workloads[0].dns.resolver: port must be 1-65535, got '0' in '127.0.0.1:0'"
    ]


@pytest.mark.parametrize("url", ["https://exa mple.com/", "https://[fe80::1/x", "https://[host]/", "https://h:99999/"])
def test_endpoint_urls_need_a_valid_host_and_port(url: str) -> None:
    text = BASE.replace(
        "        select: {tags: {app: checkout}}\n      - name: central",
        f"        select: {{tags: {{app: checkout}}}}\n        endpoints: [{{url: '{url}'}}]\n      - name: central",
    )
    [problem] = problems(text)
    assert ": workloads[0].sites[0].endpoints[0]: expected an http(s) URL" in problem


# ------------------------------------------------------------------------------------ database


@pytest.mark.parametrize(
    ("database", "reason"),
    [
        ("garbage", "not a database URL or a SQLite file path: 'garbage'"),
        ("postgresql://u@[::1:5432/db", "not a database URL: 'postgresql://u@[::1:5432/db'"),
        ("postgresql+nosuchdriver://u@h/db", "unsupported driver 'postgresql+nosuchdriver'"),
        ("postgresql://u@h:70000/db", "expected a port 1-65535 in the database URL, got 70000"),
        ("sqlite://server/f.db", "a SQLite URL names a file, not a server"),
        ("sqlite:///f.db?timeout=soon", "bad SQLite URL option"),
    ],
)
def test_a_database_setting_must_be_an_accepted_form(database: str, reason: str) -> None:
    [problem] = problems(f"database: '{database}'\n")
    assert problem.startswith(f"cfg.yaml:1: database: {reason}")
    assert "(expected sqlite:///PATH, postgresql://USER@HOST[:PORT]/DB" in problem


@pytest.mark.parametrize(
    "database", ["f.db", "data/f.sqlite3", "./state", "~/f", "/var/lib/failover/db", "sqlite:///f.db?timeout=5"]
)
def test_database_paths_that_look_like_paths_are_accepted(database: str) -> None:
    assert config_from_text(f"database: '{database}'\n").database == database


# ------------------------------------------------------------------------------------ durations


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "99999999999999d", "1e400", "3651d", "1" + "0" * 400])
def test_durations_are_finite_and_at_most_ten_years(value: str) -> None:
    [problem] = problems(BASE.replace("rto: 15m", f"rto: {value}"))
    assert ": workloads[0].targets.rto: expected a " in problem and "duration" in problem


def test_duration_parser_bounds() -> None:
    assert parse_duration("3650d") == 3650 * 86400
    assert parse_duration(0) == 0
    for bad in (math.nan, math.inf, -1, 10**400, "\u0665s", "1e3s", True):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_a_home_directory_of_an_unknown_user_is_a_located_error() -> None:
    [problem] = problems("tls: {ca_file: ~no-such-user-here/ca.pem}\n")
    assert problem == ("cfg.yaml:1: tls.ca_file: cannot expand '~no-such-user-here': no such user's home directory")
    [problem] = problems("database: ~no-such-user-here/f.db\n")
    assert problem.startswith("cfg.yaml:1: database: cannot expand '~no-such-user-here'")


def test_a_file_of_too_many_nodes_stops_at_the_node_limit() -> None:
    text = "a: [" + "1," * 1_000_000 + "1]\n"
    [problem] = problems(text)
    assert problem == "cfg.yaml:1: more than 1000000 YAML nodes: not a config file"


def test_thousands_of_problems_are_capped_to_one_screen_and_counted() -> None:
    text = "".join(f"unknown{i}: 1\n" for i in range(500))
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "cfg.yaml")
    assert str(info.value).startswith("cfg.yaml: 500 problems\n")
    assert len(info.value.problems) == 101
    assert info.value.problems[-1] == "cfg.yaml: 400 more problems not shown: fix these first"


@pytest.mark.parametrize(
    ("account", "field"),
    [
        ("{name: a, provider: aws, regions: [us-east-1], endpoint_url: 'http://[::1'}", "accounts[0].endpoint_url"),
        ("{name: g, provider: gcp, project: p, endpoint: 'not a host'}", "accounts[0].endpoint"),
        ("{name: z, provider: azure, subscription: s, endpoint: 'https://h:99999'}", "accounts[0].endpoint"),
    ],
)
def test_api_endpoint_overrides_are_urls_or_host_port(account: str, field: str) -> None:
    [problem] = problems(f"accounts: [{account}]\n")
    assert problem.startswith(f"cfg.yaml:1: {field}: ")


def test_api_endpoint_forms_that_are_accepted() -> None:
    text = (
        "accounts:\n"
        "  - {name: a, provider: aws, regions: [us-east-1], endpoint_url: 'http://127.0.0.1:5000'}\n"
        "  - {name: g, provider: gcp, project: p, endpoint: 'compute.example.com:443'}\n"
        "  - {name: z, provider: azure, subscription: s, endpoint: 'https://[::1]:8443/'}\n"
    )
    assert [a.endpoint_override for a in config_from_text(text).accounts] == [
        "http://127.0.0.1:5000",
        "compute.example.com:443",
        "https://[::1]:8443/",
    ]


def test_the_mail_docs_link_is_an_http_url() -> None:
    [problem] = problems("mail: {from: a@example.com, smtp: {host: h}, docs_url: 'javascript:alert(1)'}\n")
    assert problem == "cfg.yaml:1: mail.docs_url: expected an http(s) URL, got 'javascript:alert(1)'"
