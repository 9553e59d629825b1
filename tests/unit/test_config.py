"""Loading the config file: parsing, durations, ${ENV}, relative paths, and every error kind located
by file, line and field path."""

from __future__ import annotations

import os
import textwrap
import typing
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from failover.config import _compose_fast, _Reader, config_from_text, example_config, find_config_path, load_config
from failover.errors import ConfigError
from failover.schema import Config
from tests.fixtures.config_text import BASE, line_of, problems

# ------------------------------------------------------------------------------------------ parsing


def test_example_config_parses_into_the_documented_contract() -> None:
    config = config_from_text(example_config(), "example.yaml", env={})
    assert [(a.name, a.provider, a.scopes) for a in config.accounts] == [
        ("aws-prod", "aws", ["us-east-1", "us-west-2"]),
        ("gcp-dr", "gcp", ["acme-dr"]),
        ("az-dr", "azure", ["00000000-0000-0000-0000-000000000000"]),
    ]
    assert config.accounts[0].profile == "prod"
    assert config.accounts[0].endpoint_url is None
    w = config.workload("checkout")
    assert w.owners == ["payments-oncall@example.com"]
    assert w.tier == 1
    assert (w.targets.rto, w.targets.rpo, w.targets.capacity_ratio, w.targets.max_dns_ttl) == (900, 300, 1.0, 60)
    assert w.dns is not None and (w.dns.name, w.dns.mechanism) == ("checkout.example.com", "route53-failover")
    assert w.primary.name == "aws-east" and w.primary.regions == ["us-east-1"]
    assert w.primary.select.tags == {"app": "checkout"}
    assert w.primary.endpoints[0].expected_statuses == [200]
    assert [s.name for s in w.secondaries] == ["gcp-central"]
    assert w.secondaries[0].endpoints[0].url == "https://checkout-gcp.example.com/healthz"
    assert [(d.name, d.kind, d.provider) for d in w.dependencies] == [
        ("container-registry", "registry", "aws"),
        ("sso", "identity", "okta"),
    ]
    assert config.mail is not None
    assert config.mail.from_ == "failover@example.com"
    assert config.mail.smtp.host == "smtp.example.com"  # ${SMTP_HOST:-smtp.example.com}, variable unset
    assert (config.mail.smtp.username_env, config.mail.smtp.password_env) == ("SMTP_USER", "SMTP_PASSWORD")
    assert (config.mail.schedule.day, config.mail.schedule.time) == ("mon", "08:00")


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                _models(t, seen)
            stack.extend(typing.get_args(t))


@pytest.mark.parametrize("edit", [("rto: 15m", "rto: soon"), ("account: gcp-dr", "account: nope"), ("", "")])
def test_libyaml_and_the_pure_python_loader_read_and_locate_alike(
    edit: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """libyaml reads configs fast; without it (or on text it refuses) PyYAML reads them the same way."""
    import yaml

    text = example_config().replace(*edit, 1) if edit[0] else example_config()

    def outcome() -> object:
        try:
            return config_from_text(text, "f.yaml", env={}).model_dump()
        except ConfigError as err:
            return str(err)

    fast = outcome()
    monkeypatch.delattr(yaml, "CSafeLoader")
    assert outcome() == fast
    assert (isinstance(fast, str) and "f.yaml:" in fast) == bool(edit[0])


_YAML_BITS = st.sampled_from(
    [
        "a",
        "b",
        "<<",
        "&x ",
        "*x",
        "&y ",
        "*y",
        "!!str ",
        "!!int ",
        "! ",
        ": ",
        "- ",
        "\n",
        "\n  ",
        "{",
        "}",
        "[",
        "]",
        ", ",
        "'q'",
        '"d"',
        "| \n  t",
        "1",
        "0x1f",
        "1.5",
        "true",
        "~",
        "2026-01-02",
        "08:00",
        "# c",
        "---\n",
        "...",
    ]
)


def _shape(node: object, seen: dict[int, int]) -> object:
    """A node tree as comparable data, an alias (a node met again) as the index it was first met at."""
    if id(node) in seen:
        return ("again", seen[id(node)])
    seen[id(node)] = len(seen)
    value = node.value  # type: ignore[attr-defined]
    if isinstance(value, list):
        value = [
            tuple(_shape(n, seen) for n in item) if isinstance(item, tuple) else _shape(item, seen) for item in value
        ]
    mark = node.start_mark  # type: ignore[attr-defined]
    return (type(node).__name__, node.tag, value, mark.line, mark.column, getattr(node, "style", None))  # type: ignore[attr-defined]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.lists(_YAML_BITS, max_size=30).map("".join),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        ).flatmap(lambda data: st.booleans().map(lambda flow: yaml.safe_dump(data, default_flow_style=flow))),
    )
)
def test_the_one_pass_composer_builds_libyamls_own_node_tree(text: str) -> None:
    """The config's composer reads libyaml's events itself: where it takes a text, its tree (tags,
    values, aliases, marks, styles) is the one libyaml's composer builds; where it refuses one, the
    pure-Python loader reads it (and says what is wrong)."""
    composed = _compose_fast(text)
    try:
        expected = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        assert composed is None
        return
    if composed is None:
        return
    node, merges = composed
    assert _shape(node, {}) == _shape(expected, {})
    if not merges:
        assert "tag:yaml.org,2002:merge" not in repr(_shape(expected, {}))


_KEYS = st.sampled_from(["a", "b", "tags", "password_env", "url", "on", "1", "'q k'", "<<"])
_PLAIN_VALUES = st.sampled_from(
    [
        "${HOME}",
        "${UNSET_VAR}",
        "${X:-d}",
        "$${x}",
        "${bad",
        "08:00",
        "2026-01-02",
        "1",
        "0x1f",
        "1.5",
        "true",
        "~",
        "'q'",
        '"d"',
        "NOT A NAME",
        "SMTP_PASSWORD",
        "[1, 2]",
        "{k: v}",
        "|\n  block",
        "",
        "'${HOME}'",
        "1:30",
    ]
)
# what makes a document other than plain: rare, so most generated documents are plain
_VALUES = st.one_of(_PLAIN_VALUES, _PLAIN_VALUES, _PLAIN_VALUES, st.sampled_from(["!!int 5", "&x 1", "*x"]))


def _block(depth: int) -> st.SearchStrategy[str]:
    """Block-style YAML text: mappings and lists of the keys and values above, nested."""
    leaf = _VALUES.map(lambda v: " " + v)
    if depth == 0:
        return leaf
    inner = _block(depth - 1)
    pad = "  " * (3 - depth)
    mapping = st.lists(st.tuples(_KEYS, inner), min_size=1, max_size=4, unique_by=lambda kv: kv[0]).map(
        lambda pairs: "".join(f"\n{pad}{k}:{v}" for k, v in pairs)
    )
    listing = st.lists(inner, min_size=1, max_size=3).map(lambda items: "".join(f"\n{pad}-{v}" for v in items))
    return st.one_of(leaf, mapping, listing)


def _read(reader: _Reader, read: typing.Callable[[], object]) -> object:
    try:
        data = read()
    except ConfigError as err:
        return ("refused", str(err))
    return data, reader.lines, reader.raw, [str(p) for p in reader.problems]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        _block(3).map(lambda t: t.lstrip("\n") if t.startswith("\n") and not t.startswith("\n-") else "k:" + t),
        st.lists(_YAML_BITS, max_size=30).map("".join),
    )
)
def test_a_plain_document_reads_as_its_node_tree_does(text: str) -> None:
    """The config is read straight from libyaml's events when it is plain, else from the node tree:
    where the first takes a text, its data, key lines, raw strings and problems are the tree's."""
    env = {"HOME": "/root", "X": ""}
    plain = _Reader("f.yaml", env)
    plain._loader = yaml.SafeLoader("")
    events = yaml.CSafeLoader(text)
    try:
        taken = plain._plain_document(events)
    except Exception:  # not plain (or not YAML): the node tree reads it
        taken = None
    finally:
        events.dispose()
    composed = _compose_fast(text)
    if taken is None or composed is None:
        return
    tree = _Reader("f.yaml", env)
    tree._loader = yaml.SafeLoader("")
    tree._merges = composed[1]
    assert _read(plain, lambda: taken) == _read(tree, lambda: tree._data(composed[0]))


def test_example_documents_every_key_of_the_schema() -> None:
    text = example_config()
    models: set[type[BaseModel]] = set()
    _models(Config, models)
    assert len(models) > 10
    missing = [
        f"{m.__name__}.{f.alias or n}"
        for m in models
        for n, f in m.model_fields.items()
        if f"{f.alias or n}:" not in text
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("500ms", 0.5), ("45", 45), ("1.5h", 5400)],
)
def test_durations_accept_each_form(written: str, seconds: float) -> None:
    config = config_from_text(BASE.replace("rto: 15m", f"rto: {written}"))
    assert config.workloads[0].targets.rto == seconds


def test_unquoted_clock_times_stay_text_not_base_60_numbers() -> None:
    text = BASE + "mail:\n  from: a@example.com\n  smtp: {host: h}\n  schedule: {time: 10:30}\n"
    config = config_from_text(text)
    assert config.mail is not None and config.mail.schedule.time == "10:30"


def test_tag_values_are_kept_as_written() -> None:
    text = BASE.replace("{tags: {app: checkout}}", "{tags: {app: checkout, version: 1.10, public: yes}}", 1)
    config = config_from_text(text)
    assert config.workloads[0].primary.select.tags == {"app": "checkout", "version": "1.10", "public": "yes"}


def test_yaml_merge_keys_are_honoured() -> None:
    text = BASE.replace(
        "        select: {tags: {app: checkout}}\n      - name: central",
        "        select: &sel {tags: {app: checkout}}\n      - name: central",
        1,
    )
    text = text.replace(
        "        account: gcp-dr\n        select: {tags: {app: checkout}}",
        "        account: gcp-dr\n        select: {<<: *sel, ids: [x]}",
    )
    config = config_from_text(text)
    assert config.workloads[0].secondaries[0].select.tags == {"app": "checkout"}
    assert config.workloads[0].secondaries[0].select.ids == ["x"]


# ----------------------------------------------------------------------------------------- ${ENV}


def test_env_references_are_expanded_with_defaults() -> None:
    text = BASE.replace("name: checkout\n", "name: ${APP}-${STAGE:-prod}\n").replace("rto: 15m", "rto: ${RTO:-10m}")
    config = config_from_text(text, env={"APP": "checkout", "RTO": ""})
    assert config.workloads[0].name == "checkout-prod"
    assert config.workloads[0].targets.rto == 600  # empty counts as unset for :-


def test_double_dollar_writes_a_literal_reference() -> None:
    text = BASE.replace("name: checkout\n", "name: checkout\n    dns: {name: 'x$${Y}.example.com'}\n")
    config = config_from_text(text, env={})
    assert config.workloads[0].dns is not None and config.workloads[0].dns.name == "x${Y}.example.com"


def test_unset_env_variable_is_an_error_naming_variable_file_and_line() -> None:
    text = BASE.replace("rto: 15m", "rto: ${CHECKOUT_RTO}")
    assert problems(text, env={}) == [
        f"cfg.yaml:{line_of(text, 'CHECKOUT_RTO')}: workloads[0].targets.rto: environment variable CHECKOUT_RTO "
        "is not set (write ${CHECKOUT_RTO:-default} to give a default)"
    ]


def test_malformed_env_reference_is_an_error() -> None:
    text = BASE.replace("name: checkout\n", "name: ${1BAD}\n")
    [problem] = problems(text, env={})
    assert problem.startswith(f"cfg.yaml:{line_of(text, '1BAD')}: workloads[0].name: expected ${{NAME}}")


def test_env_names_in_star_env_keys_are_not_expanded() -> None:
    text = BASE + "mail:\n  from: a@example.com\n  smtp: {host: h, password_env: SMTP_PASSWORD}\n"
    config = config_from_text(text, env={"SMTP_PASSWORD": "hunter2"})
    assert config.mail is not None and config.mail.smtp.password_env == "SMTP_PASSWORD"
    assert "hunter2" not in config.model_dump_json()


def test_a_secret_written_into_a_star_env_key_is_refused_without_echoing_it() -> None:
    text = BASE + "mail:\n  from: a@example.com\n  smtp: {host: h, password_env: 'hunter2!'}\n"
    [problem] = problems(text)
    assert problem == (
        f"cfg.yaml:{line_of(text, 'password_env')}: mail.smtp.password_env: expected the NAME of an environment "
        "variable (like SMTP_PASSWORD), not its value"
    )


def test_a_password_field_points_to_the_env_form() -> None:
    text = BASE + "mail:\n  from: a@example.com\n  smtp:\n    host: h\n    password: hunter2\n"
    [problem] = problems(text)
    assert problem == (
        f"cfg.yaml:{line_of(text, 'password:')}: mail.smtp.password: unknown field: secrets are never read "
        "from the file; use password_env: VARIABLE_NAME"
    )
    assert "hunter2" not in problem


def test_a_database_password_in_the_file_is_refused() -> None:
    text = "database: postgresql+psycopg://failover:hunter2@db.internal/failover\n" + BASE
    [problem] = problems(text)
    assert problem.startswith("cfg.yaml:1: database: a password written in the file is not allowed")
    assert "hunter2" not in problem
    ok = config_from_text("database: postgresql+psycopg://failover:${PGPASS}@db/failover\n" + BASE, env={"PGPASS": "s"})
    assert ok.database == "postgresql+psycopg://failover:s@db/failover"


# ------------------------------------------------------------------------------------------ errors


def test_bad_duration_names_file_line_and_field() -> None:
    text = BASE.replace("rto: 15m", "rto: soon")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'rto: soon')}: workloads[0].targets.rto: "
        "expected a duration like 90s, 15m or 2h, got 'soon'"
    ]


def test_unknown_account_is_located_at_the_site() -> None:
    text = BASE.replace("account: gcp-dr", "account: gcp-drr")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'gcp-drr')}: workloads[0].sites[1].account: "
        "unknown account 'gcp-drr' (known: aws-prod, gcp-dr)"
    ]


def _with_dns(account: str, mechanism: str = "route53-failover") -> str:
    dns = f"    dns: {{name: checkout.example.com, mechanism: {mechanism}, account: {account}}}\n"
    return BASE.replace("    sites:\n", dns + "    sites:\n", 1)


def test_dns_account_must_name_a_configured_account_of_the_mechanism_provider() -> None:
    text = _with_dns("dns-central")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'dns-central')}: workloads[0].dns.account: "
        "unknown account 'dns-central' (known: aws-prod, gcp-dr)"
    ]
    text = _with_dns("gcp-dr")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'account: gcp-dr}')}: workloads[0].dns.account: "
        "route53-failover records live in aws, but account 'gcp-dr' is gcp"
    ]


def test_dns_records_are_searched_in_dns_account_else_every_account_of_the_provider() -> None:
    central = BASE.replace(
        "workloads:", "  - name: dns-central\n    provider: aws\n    regions: [us-east-1]\nworkloads:"
    )
    config = config_from_text(central, "cfg.yaml")
    w = config.workload("checkout")
    assert config.dns_accounts(w) == [] and config.workload_accounts(w) == ["aws-prod", "gcp-dr"]  # no dns: section
    config = config_from_text(
        central.replace("    sites:\n", "    dns: {name: a.example.com, mechanism: route53-failover}\n    sites:\n", 1),
        "cfg.yaml",
    )
    w = config.workload("checkout")
    assert config.dns_accounts(w) == ["aws-prod", "dns-central"]
    assert config.workload_accounts(w) == ["aws-prod", "gcp-dr", "dns-central"]
    config = config_from_text(_with_dns("aws-prod", "external"), "cfg.yaml")
    assert config.dns_accounts(config.workload("checkout")) == ["aws-prod"]


def test_workload_without_secondary_is_reported_at_its_sites() -> None:
    text = BASE.replace("role: secondary", "role: primary")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'sites:')}: workloads[0].sites: expected exactly one primary site",
        f"cfg.yaml:{line_of(text, 'sites:')}: workloads[0].sites: expected at least one site with role: secondary",
    ]


def test_workload_without_primary_is_reported() -> None:
    text = BASE.replace("role: primary", "role: secondary")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'sites:')}: workloads[0].sites: expected one site with role: primary"
    ]


def test_duplicate_names_are_reported_where_the_second_one_is() -> None:
    text = BASE.replace("name: gcp-dr", "name: aws-prod").replace("account: gcp-dr", "account: aws-prod")
    text = text.replace("name: central", "name: east")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'name: aws-prod', 2)}: accounts[1].name: duplicate account name 'aws-prod'",
        f"cfg.yaml:{line_of(text, 'name: east', 2)}: workloads[0].sites[1].name: duplicate site name 'east'",
    ]


def test_owner_that_is_not_an_address_is_reported() -> None:
    text = BASE.replace("owners: [payments-oncall@example.com]", "owners: [payments-oncall@example.com, bob]")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'owners:')}: workloads[0].owners[1]: "
        "expected an email address like team@example.com, got 'bob'"
    ]


def test_unknown_key_suggests_the_close_known_key() -> None:
    text = BASE.replace("rto: 15m", "rto: 15m\n      rpoo: 5m")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'rpoo')}: workloads[0].targets.rpoo: unknown field (did you mean 'rpo'?)"
    ]


def test_unknown_key_without_close_match_lists_the_known_keys() -> None:
    text = "colour: blue\n" + BASE
    [problem] = problems(text)
    assert problem.startswith("cfg.yaml:1: colour: unknown field (expected one of: database, vantage, accounts,")


def test_literal_error_lists_allowed_values_and_suggests() -> None:
    text = BASE.replace("provider: aws", "provider: awss")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'awss')}: accounts[0].provider: "
        "expected one of aws, gcp, azure, cloudflare (did you mean 'aws'?), got 'awss'"
    ]


def test_missing_required_field_is_reported_at_its_parent() -> None:
    text = BASE.replace("        role: secondary\n", "")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'name: central')}: workloads[0].sites[1].role: missing required field"
    ]


def test_union_field_errors_are_merged_into_one_line() -> None:
    text = BASE.replace(
        "        select: {tags: {app: checkout}}\n      - name: central",
        "        select: {tags: {app: checkout}}\n        endpoints: [{url: 'http://a', expect_status: ok}]\n"
        "      - name: central",
    )
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'expect_status')}: workloads[0].sites[0].endpoints[0].expect_status: "
        "expected a whole number or a list, got 'ok'"
    ]
    deeper = text.replace("expect_status: ok", "expect_status: [200, ok]")
    assert problems(deeper) == [
        f"cfg.yaml:{line_of(text, 'expect_status')}: workloads[0].sites[0].endpoints[0].expect_status[1]: "
        "expected a whole number, got 'ok'"
    ]


def test_single_site_workload_needs_two_sites() -> None:
    text = BASE.split("      - name: central")[0]
    [first, *_] = problems(text)
    assert first == (
        f"cfg.yaml:{line_of(text, 'sites:')}: workloads[0].sites: "
        "expected at least two sites (a primary and a secondary)"
    )


def test_anonymous_credentials_are_refused_without_a_loopback_endpoint() -> None:
    text = BASE.replace("regions: [us-east-1]\n", "regions: [us-east-1]\n    credentials: anonymous\n", 1)
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, '- name: aws-prod')}: accounts[0]: credentials: anonymous is only allowed with a "
        "loopback endpoint/endpoint_url (http://127.0.0.1:PORT), for local emulators"
    ]
    remote = text.replace(
        "credentials: anonymous\n", "credentials: anonymous\n    endpoint_url: https://ec2.amazonaws.com\n"
    )
    assert len(problems(remote)) == 1
    local = text.replace(
        "credentials: anonymous\n", "credentials: anonymous\n    endpoint_url: http://127.0.0.1:5000\n"
    )
    assert config_from_text(local).accounts[0].credentials == "anonymous"


def test_several_errors_are_listed_together_in_line_order() -> None:
    text = (
        BASE.replace("provider: gcp", "provider: gpc")
        .replace("rto: 15m", "rto: soon")
        .replace("account: gcp-dr", "account: nowhere")
        .replace("owners: [payments-oncall@example.com]", "owners: [bob]")
    )
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "cfg.yaml")
    lines = [int(p.split(":")[1]) for p in info.value.problems]
    assert lines == sorted(lines)
    assert [p.split(": ")[1] for p in info.value.problems] == [
        "accounts[1].provider",
        "workloads[0].owners[0]",
        "workloads[0].targets.rto",
        "workloads[0].sites[1].account",
    ]
    assert str(info.value).startswith("cfg.yaml: 4 problems\n  - cfg.yaml:")


def test_duplicate_yaml_key_is_an_error() -> None:
    text = BASE.replace("rto: 15m", "rto: 15m\n      rto: 20m")
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'rto: 20m')}: workloads[0].targets.rto: "
        f"duplicate key (first given on line {line_of(text, 'rto: 15m')})"
    ]


def test_bad_yaml_reports_the_parser_line_and_column() -> None:
    text = BASE.replace("      rto: 15m", "      rto: 15m\n     rpo: [5m")
    [problem] = problems(text)
    assert problem.startswith(f"cfg.yaml:{line_of(text, 'rpo: [5m')}:6: invalid YAML: ")


def test_tab_indentation_is_a_located_yaml_error() -> None:
    [problem] = problems("accounts:\n\t- name: x\n")
    assert problem.startswith("cfg.yaml:2:1: invalid YAML: found character '\\t' that cannot start any token")


def test_recursive_alias_is_an_error_not_a_crash() -> None:
    [problem] = problems("accounts: &a [*a]\n")
    assert "recursive YAML alias" in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "cfg.yaml: the file is empty (run `failover init` for a commented example)"),
        ("# only a comment\n", "cfg.yaml: the file is empty (run `failover init` for a commented example)"),
        ("- a\n- b\n", "cfg.yaml:1: expected a mapping (accounts:, workloads:, ...) at the top level, got a list"),
        ("hello\n", "cfg.yaml:1: expected a mapping (accounts:, workloads:, ...) at the top level, got 'hello'"),
    ],
)
def test_file_shape_errors_are_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_text(text, "cfg.yaml")
    assert str(info.value) == expected
    assert info.value.problems == [expected]


# ------------------------------------------------------------------------------------- files, lookup


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"nope.yaml: config file not found \(create one with `failover init"):
        load_config(path)


def test_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, expected a YAML file"):
        load_config(tmp_path)


def test_path_through_a_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="cannot read the file: Not a directory"):
        load_config(tmp_path / "f" / "failover.yaml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "failover.yaml"
    path.write_text(BASE)
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot read the file: permission denied"):
        load_config(path)


def test_non_utf8_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "failover.yaml"
    path.write_bytes(b"accounts: []\nname: \xff\n")
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(invalid byte at offset 19\)"):
        load_config(path)


def test_lookup_prefers_the_working_directory_then_the_env_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "etc" / "failover.yaml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(BASE)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("FAILOVER_CONFIG", raising=False)
    assert find_config_path(None) is None
    with pytest.raises(ConfigError, match=r"no config file: \./failover.yaml does not exist and \$FAILOVER_CONFIG"):
        load_config()
    assert load_config(required=False) == Config()

    monkeypatch.setenv("FAILOVER_CONFIG", str(elsewhere))
    assert find_config_path(None) == elsewhere
    assert load_config().source_path == elsewhere.resolve()

    (work / "failover.yaml").write_text(BASE.replace("name: checkout", "name: local"))
    assert find_config_path(None) == Path("failover.yaml")
    assert load_config().workloads[0].name == "local"


def test_a_set_env_path_that_is_missing_is_an_error_even_when_optional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAILOVER_CONFIG", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match=r"gone\.yaml: config file not found"):
        load_config(required=False)


def test_explicit_missing_path_is_an_error_even_when_optional(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml", required=False)


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    mail = "mail: {from: a@example.com, smtp: {host: h, ca_file: smtp.pem}}\n"
    text = (
        "database: sqlite:///data/failover.db?timeout=5\ntls: {ca_file: ca.pem}\n"
        + mail
        + BASE.replace(
            "        select: {tags: {app: checkout}}\n      - name: central",
            "        select: {tags: {app: checkout}}\n        endpoints: [{url: 'https://a', ca_file: certs/a.pem}]\n"
            "      - name: central",
        )
    )
    (conf / "failover.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    config = load_config("conf/failover.yaml")
    assert config.database == f"sqlite:///{conf.resolve()}/data/failover.db?timeout=5"
    assert config.tls.ca_file == str(conf.resolve() / "ca.pem")
    assert config.mail is not None and config.mail.smtp.ca_file == str(conf.resolve() / "smtp.pem")
    assert config.workloads[0].primary.endpoints[0].ca_file == str(conf.resolve() / "certs/a.pem")
    assert config.resolve_path("x/y") == conf.resolve() / "x/y"
    assert config.resolve_path("/abs") == Path("/abs")


def test_memory_and_absolute_databases_are_left_alone(tmp_path: Path) -> None:
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:////var/lib/failover.db", "postgresql+psycopg://u@h/db"):
        path = tmp_path / "failover.yaml"
        path.write_text(f"database: '{url}'\n")
        assert load_config(path).database == url


def test_unknown_database_scheme_is_reported() -> None:
    [problem] = problems("database: mysql://h/db\n")
    assert problem.startswith(
        "cfg.yaml:1: database: unsupported backend 'mysql' (expected sqlite:///PATH, postgresql://"
    )


def test_text_without_a_file_keeps_relative_paths_and_no_source() -> None:
    config = config_from_text(textwrap.dedent("database: sqlite:///rel.db\n"))
    assert config.database == "sqlite:///rel.db"
    assert config.source_path is None


def test_broken_accounts_section_does_not_add_unknown_account_noise() -> None:
    text = BASE.replace("accounts:", "acounts:")
    assert problems(text) == ["cfg.yaml:1: acounts: unknown field (did you mean 'accounts'?)"]


def test_unparseable_url_is_a_located_error() -> None:
    text = BASE.replace(
        "        select: {tags: {app: checkout}}\n      - name: central",
        "        select: {tags: {app: checkout}}\n        endpoints: [{url: 'https://[::1/x'}]\n      - name: central",
    )
    assert problems(text) == [
        f"cfg.yaml:{line_of(text, 'endpoints:')}: workloads[0].sites[0].endpoints[0]: "
        "expected an http(s) URL, got 'https://[::1/x'"
    ]


_EXAMPLE_LINES = example_config().splitlines(keepends=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(_EXAMPLE_LINES) - 1),
            st.integers(0, 80),
            st.sampled_from([*" :-[]{}'\"&*!,#\t", "${X}", "null", "1:30", "<<: *a", "&a ", "- ", ""]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_any_edit_of_the_example_gives_a_config_or_located_problems(edits: list[tuple[int, int, str]]) -> None:
    lines = list(_EXAMPLE_LINES)
    for index, column, insert in edits:
        line = lines[index]
        column = min(column, len(line))
        lines[index] = line[:column] + insert + line[column + (0 if insert else 1) :]
    try:
        config_from_text("".join(lines), "cfg.yaml", env={})
    except ConfigError as err:
        assert err.problems
        for problem in err.problems:
            assert problem.startswith("cfg.yaml")
            assert "\n" not in problem


def test_reference_docs_cover_every_key_of_the_schema() -> None:
    doc = (Path(__file__).parents[2] / "README.md").read_text()
    models: set[type[BaseModel]] = set()
    _models(Config, models)
    missing = [
        f"{m.__name__}.{f.alias or n}"
        for m in models
        for n, f in m.model_fields.items()
        if not any(form.format(f.alias or n) in doc for form in ("`{}`", ".{}`", "`{}."))
    ]
    assert missing == []
