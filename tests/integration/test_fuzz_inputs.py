"""Property-based fuzzing of every input an operator types: the config loader (random structure and
scalars, random YAML text), the duration parser, host:port and URL parsers, database URLs and the
CLI's numeric and time options. The result is always a valid value or a clear error (ConfigError /
ValueError / exit 2), never a traceback, a hang or an accepted value that fails later.

Bounded for CI: every test sets ``max_examples``; the whole file runs in well under a minute on two
cores. Examples are pure in-process calls, except the CLI ones, which use one SQLite file per module.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from failover.cli import cli
from failover.config import config_from_text, example_config
from failover.errors import ConfigError
from failover.model import DRILL_CLOCK_SKEW
from failover.schema import (
    MAX_DURATION_S,
    Config,
    check_host,
    control_character,
    parse_duration,
    parse_host_port,
    parse_http_url,
)
from failover.store import Store
from failover.store.urls import ENV_VAR, check_database_url, display_url, normalize_url, split_url
from probes.targets import HttpTarget
from tests.fixtures.smtp import mail_config_data, save_scores, score

# Generous per-example deadline: a slow shared CI machine must not flake, a pathological input
# (seconds per example) still fails.
FUZZ = settings(
    max_examples=100,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FEW = settings(FUZZ, max_examples=40)

# ---------------------------------------------------------------------------------------- strategies

NASTY_TEXT = [
    "",
    " ",
    "15m",
    "99999999999999d",
    "1e999",
    "nan",
    "-inf",
    "${X}",
    "${",
    "$${X}",
    "de\x00mo",
    "a\x1b[2Jb",
    "x\u202ey",
    "line\nbreak",
    "garbage",
    "sqlite:///f.db",
    "postgresql://u@[::1:5432/db",
    "postgresql+nosuchdriver://u@h/db",
    "not a host:port",
    "[::1]:53",
    "https://[::1",
    "https://a.example.com/healthz",
    "primary",
    "aws",
    "a@example.com",
    "08:00",
    "*",
    "&a",
    "<<",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**63, -1, 0, 65536]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(NASTY_TEXT),
)
structures = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(["name", "url", "tags", "<<"])), inner, max_size=4
        ),
    ),
    max_leaves=12,
)
_EXAMPLE: dict[str, Any] = yaml.safe_load(example_config())


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


_EXAMPLE_PATHS = [p for p in _paths(_EXAMPLE) if p]


@st.composite
def mutated_examples(draw: st.DrawFn) -> dict[str, Any]:
    """The shipped example with a few values replaced, removed or added: deep paths get exercised."""
    data = copy.deepcopy(_EXAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_EXAMPLE_PATHS))
        parent: Any = data
        try:
            for seg in path[:-1]:
                parent = parent[seg]
            action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(structures)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(max_size=8))] = draw(structures)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation moved this path
    return data


def _load(text: str) -> Config | None:
    """Config, or None after checking the ConfigError is a clear one; anything else fails the test."""
    try:
        return config_from_text(text, "cfg.yaml", env={"X": "x"})
    except ConfigError as err:
        lines = err.problems or [str(err)]
        assert lines and all(line.startswith("cfg.yaml") and "\n" not in line for line in lines), lines
        assert "Traceback" not in str(err)
        return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _assert_clean(config: Config | None) -> None:
    """A config that validated holds no control character anywhere it could be stored or printed,
    and no number that is not finite."""
    if config is not None:
        dumped = config.model_dump()
        assert [s for s in _strings(dumped) if control_character(s)] == []
        config.model_dump_json()  # serializable as it will be stored


# ---------------------------------------------------------------------------------------- config loader


@FUZZ
@given(mutated_examples())
def test_any_mutation_of_the_example_is_a_config_or_located_problems(data: dict[str, Any]) -> None:
    _assert_clean(_load(yaml.safe_dump(data, allow_unicode=True, sort_keys=False)))


@FUZZ
@given(st.dictionaries(st.sampled_from([*_EXAMPLE, "x"]), structures, max_size=6))
def test_any_structure_under_the_top_level_keys_is_a_config_or_located_problems(data: dict[str, Any]) -> None:
    _assert_clean(_load(yaml.safe_dump(data, allow_unicode=True)))


_YAML_ALPHABET = st.sampled_from(
    [*"abcxyz019 :-[]{},&*!|>'\"#%@`?.~$<=\n\t", "\x00", "\x1b", "\ufeff", "\u202e", "é", "<<", "!!int ", "&a ", "*a"]
)


@FUZZ
@given(st.lists(_YAML_ALPHABET, max_size=120).map("".join))
def test_any_yaml_text_is_a_config_or_located_problems(text: str) -> None:
    _assert_clean(_load(text))


@settings(FUZZ, max_examples=25)
@given(st.integers(1, 3000), st.sampled_from(["[", "{a: ", "- "]))
def test_any_nesting_depth_is_a_config_or_one_located_problem(depth: int, opener: str) -> None:
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    if opener == "- ":  # block style: the text grows with the square of the depth, so stop at 200
        text = "workloads:\n" + "".join("  " * i + "- \n" for i in range(min(depth, 200)))
    else:
        text = "workloads: " + opener * depth + "1" + closer * depth + "\n"
    _load(text)


# ---------------------------------------------------------------------------------------- parsers


@FUZZ
@given(
    st.one_of(
        st.text(max_size=30),
        st.from_regex(r"\A\s*[0-9]{1,20}(\.[0-9]{1,5})?\s*(ms|s|m|h|d|w)?\s*\Z"),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.sampled_from([10**400, True, None, [], {}, "1e3s", "\u0665s"]),
    )
)
def test_a_duration_is_a_bounded_number_of_seconds_or_a_value_error(value: Any) -> None:
    try:
        seconds = parse_duration(value)
    except ValueError as err:
        assert str(err).startswith("expected a ")
        return
    assert isinstance(seconds, float) and math.isfinite(seconds) and 0 <= seconds <= MAX_DURATION_S
    timedelta(seconds=seconds)  # every consumer can take it


@FUZZ
@given(st.one_of(st.text(max_size=40), st.from_regex(r"\A\[?[0-9a-f:.]{0,20}\]?(:[0-9]{0,6})?\Z")))
def test_host_port_is_parsed_or_refused(value: str) -> None:
    try:
        host, port = parse_host_port(value, default_port=53)
    except ValueError as err:
        assert "\n" not in str(err)
        return
    assert 0 < port < 65536 and host and check_host(host) == host
    assert control_character(host) is None and not any(c.isspace() for c in host)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
            st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
            st.one_of(
                st.sampled_from(["[::1]", "[::1", "127.0.0.1", "a.example.com", "[x]", "a b", ""]), st.text(max_size=10)
            ),
            st.sampled_from(["", ":", ":0", ":443", ":99999", ":x"]),
            st.text(max_size=10),
        ),
    )
)
def test_an_http_url_is_one_the_probe_accepts_or_a_value_error(value: str) -> None:
    try:
        url = parse_http_url(value)
    except ValueError as err:
        assert str(err).startswith("expected an http(s) URL")
        return
    assert HttpTarget(url=url).host_key  # the probe takes every URL the config accepts


_DB_URLS = st.builds(
    lambda scheme, user, host, port, db, query: f"{scheme}://{user}{host}{port}/{db}{query}",
    st.sampled_from(
        ["sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg", "postgresql+x", "mysql", "SQLITE"]
    ),
    st.sampled_from(["", "u@", "u:p@", "u:s3cret@", "@", ":@", "u:%00@"]),
    st.one_of(
        st.sampled_from(["", "db.internal", "127.0.0.1", "[::1]", "[::1", "bad host", "é.example"]), st.text(max_size=8)
    ),
    st.sampled_from(["", ":", ":0", ":5432", ":99999", ":-1", ":abc", ": 5"]),
    st.one_of(st.sampled_from(["", "f.db", ":memory:", "file:x", "a%00b"]), st.text(max_size=8)),
    st.sampled_from(
        ["", "?timeout=5", "?timeout=soon", "?sslmode=require", "?foo=bar", "?uri=true&mode=ro", "?host=/tmp"]
    ),
)


@FUZZ
@given(st.one_of(_DB_URLS, st.text(max_size=40), st.sampled_from(["garbage", "f.db", "./x", "~/f", "/abs/f", "a://b"])))
def test_a_database_url_is_one_of_the_accepted_forms_or_a_config_error(value: str) -> None:
    try:
        url = normalize_url(value)
    except ConfigError as err:
        message = str(err)
        assert "sqlite:///PATH" in message and "postgresql://" in message and "\n" not in message
        assert "s3cret" not in message
        return
    check_database_url(value)
    parsed = make_url(url)
    assert parsed.get_backend_name() in ("sqlite", "postgresql")
    assert parsed.drivername in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
    assert "s3cret" not in display_url(url)
    if parsed.port is not None:
        assert 0 < parsed.port < 65536


@FUZZ
@given(st.one_of(_DB_URLS, st.text(max_size=40).map(lambda t: "postgresql://" + t), st.text(max_size=40)))
def test_a_database_url_is_split_exactly_as_sqlalchemy_reads_it(value: str) -> None:
    """``failover validate`` checks URLs without importing SQLAlchemy: its split must be make_url's."""
    try:
        url = make_url(value)
    except Exception:  # ArgumentError (no scheme) or ValueError (a port that is no integer)
        with pytest.raises(ValueError):
            split_url(value)
        return
    parts = split_url(value)
    query = {k: list(v) if isinstance(v, tuple) else v for k, v in url.query.items()}
    assert parts == (url.drivername, url.username, url.password, url.host, url.port, url.database, query)


# ---------------------------------------------------------------------------------------- CLI options


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config and a SQLite store where every workload scores 50."""
    root = tmp_path_factory.mktemp("fuzz-cli")
    data = {**mail_config_data(None), "database": str(root / "f.db")}
    (root / "failover.yaml").write_text(yaml.safe_dump(data))
    with Store.open(f"sqlite:///{root / 'f.db'}") as store:
        now = datetime.now(UTC)
        save_scores(store, [score(n, 50.0, now - timedelta(days=1)) for n in ("checkout", "payments", "search")])
    return root


def _cli(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, list(args))
    assert isinstance(result.exception, SystemExit) or result.exception is None, result.exception
    assert "Traceback" not in result.output
    return result.exit_code


_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.text(max_size=12),
    st.sampled_from(["nan", "-nan", "NaN", "inf", "Infinity", "1e999", "0x10", "1_0", "50", "50.0", "49.99", ""]),
)


@FEW
@given(_NUMBERS)
def test_fail_under_is_a_usage_error_or_the_gate_it_says(
    scored: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    assume(not value.startswith("-") or value[1:2].isdigit() or value == "-nan")  # else it reads as an option
    code = _cli(scored, monkeypatch, "score", "--format", "json", "--fail-under", value)
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and 0 <= number <= 100):
        assert code == 2
    else:
        assert code == (1 if number > 50.0 else 0)


@FEW
@given(st.one_of(st.text(max_size=16), st.from_regex(r"\A[0-9]{1,16}(ms|s|m|h|d|w)\Z"), _NUMBERS))
def test_since_is_a_usage_error_or_a_trend(scored: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assume(not value.startswith("-"))
    code = _cli(scored, monkeypatch, "score", "--format", "json", "--since", value)
    try:
        parse_duration(value)
    except ValueError:
        assert code == 2
    else:
        assert code == 0


@FEW
@given(st.one_of(st.text(max_size=30), st.datetimes(timezones=st.timezones()).map(datetime.isoformat)))
def test_drill_at_is_a_usage_error_or_a_time_not_in_the_future(
    scored: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    assume(value and not value.startswith("-"))
    code = _cli(scored, monkeypatch, "drill", "record", "checkout", "--at", value, "--notes", "fuzz")
    assert code in (0, 2)
    if code == 0:
        with Store.open(f"sqlite:///{scored / 'f.db'}") as store:
            newest = max(store.drills("checkout", limit=1000), key=lambda d: d.performed_at)
        assert newest.performed_at <= datetime.now(UTC) + DRILL_CLOCK_SKEW
