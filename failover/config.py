"""Loading the config file: find it, read YAML keeping each key's line, expand ``${ENV}``, validate
with ``failover.schema``, and report every problem at once, each located by file, line and field path.

Relative paths in the file (``ca_file``, a ``sqlite:///`` database) are resolved against the file's
directory at load time, so the returned ``Config`` means the same thing whatever the working directory.
"""

from __future__ import annotations

import difflib
import importlib.resources
import os
import re
import stat
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from failover.collector import collector_paused
from failover.errors import ConfigError
from failover.schema import Account, Config, Site, Workload, control_character

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "Problem",
    "config_from_text",
    "example_config",
    "find_config_path",
    "load_config",
]

DEFAULT_CONFIG_NAME = "failover.yaml"
CONFIG_ENV = "FAILOVER_CONFIG"

Loc = tuple[str | int, ...]

MAX_CONFIG_BYTES = 10_000_000  # real configs are a few hundred kB at most
MAX_DEPTH = 64  # nesting of mappings and lists; real configs nest about 8 deep
# written and after alias expansion ("billion laughs"); a config of 10,000 workloads has ~400,000
_MAX_NODES = 1_000_000
_MAX_PROBLEMS = 100
_ENV_REF = re.compile(r"\$\$\{|\$\{(?P<body>[^{}]*)\}|\$\{")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_BODY = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?$", re.DOTALL)
_SQLITE = re.compile(r"^(?P<prefix>sqlite(?:\+\w+)?:///)(?P<path>[^?]*)(?P<query>\?.*)?$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Problem:
    """One located problem; ``str()`` gives the line users see."""

    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


# ---------------------------------------------------------------------------------------------- lookup


def find_config_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The file to read: ``path`` if given, else ./failover.yaml if it exists, else $FAILOVER_CONFIG.

    A given path (or a set $FAILOVER_CONFIG) is returned even when missing, so the loader can say so.
    """
    if path is not None:
        return Path(path)
    local = Path(DEFAULT_CONFIG_NAME)
    if local.exists():
        return local
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else None


def load_config(path: str | os.PathLike[str] | None = None, *, required: bool = True) -> Config:
    """Read and validate the config file; raises ``ConfigError`` listing every problem found.

    With ``required=False`` and no file at the default locations, returns an empty ``Config()``; a
    path given explicitly (argument or $FAILOVER_CONFIG) must exist.
    """
    found = find_config_path(path)
    if found is None:
        if not required:
            return Config()
        raise _fail(
            [
                f"no config file: ./{DEFAULT_CONFIG_NAME} does not exist and ${CONFIG_ENV} is not set "
                f"(create one with `failover init`, or pass -c FILE)"
            ]
        )
    text = _read(found)
    return config_from_text(text, source=str(found), base_dir=found.resolve().parent, _path=found)


def _read(path: Path) -> str:
    """The file's text. Only a regular file of at most ``MAX_CONFIG_BYTES`` is read: a FIFO would block
    forever and /dev/zero never ends, so the type is checked on the open descriptor (no race with a
    swapped path) and the read stops one byte past the limit."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise _fail([f"{name}: config file not found (create one with `failover init {name}`)"]) from None
    except IsADirectoryError:
        raise _fail([f"{name}: is a directory, expected a YAML file"]) from None
    except PermissionError:
        raise _fail([f"{name}: cannot read the file: permission denied"]) from None
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the path
        raise _fail([f"{name}: cannot read the file: {getattr(err, 'strerror', None) or err}"]) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise _fail([f"{name}: is a directory, expected a YAML file"])
        if not stat.S_ISREG(mode):
            raise _fail([f"{name}: not a regular file ({_file_kind(mode)}): expected a YAML file"])
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise _fail([f"{name}: cannot read the file: {err.strerror or err}"]) from None
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        raise _fail([f"{name}: larger than {MAX_CONFIG_BYTES // 1_000_000} MB: not a config file"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _fail([f"{name}: not UTF-8 text (invalid byte at offset {err.start})"]) from None


def _file_kind(mode: int) -> str:
    kinds = [
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((kind for test, kind in kinds if test(mode)), "not a plain file")


def example_config() -> str:
    """The commented example shipped in the package (what `failover init` writes)."""
    return importlib.resources.files("failover").joinpath("example.yaml").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------------- parse


def config_from_text(
    text: str,
    source: str = "<string>",
    *,
    base_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    _path: Path | None = None,
) -> Config:
    """Validate config text. ``base_dir`` anchors relative paths; ``env`` defaults to ``os.environ``."""
    if len(text) > MAX_CONFIG_BYTES:
        raise _fail([f"{source}: larger than {MAX_CONFIG_BYTES // 1_000_000} MB: not a config file"])
    with collector_paused():  # the node tree and models of a large config: many objects, no cycles
        return _validated(text, source, base_dir, env, _path)


def _validated(
    text: str, source: str, base_dir: Path | None, env: Mapping[str, str] | None, _path: Path | None
) -> Config:
    reader = _Reader(source, os.environ if env is None else env)
    data = reader.parse(text)
    problems = list(reader.problems)
    problems += _database_problems(reader, data)
    problems += _token_problems(reader)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        # a value already reported (an unset ${VAR}) would only be reported again, less clearly
        seen_lines = {p.line for p in reader.problems}
        problems += [p for p in _validation_problems(err, data, reader) if p.line not in seen_lines]
    # Cross-references are checked even when some fields are invalid, so one run lists everything.
    located = {(p.line, p.path) for p in problems}
    cross = config.cross_reference_problems() if config is not None else _rough_cross_references(data)
    for loc, message in cross:
        problem = reader.problem(loc, message)
        if (problem.line, problem.path) not in located:
            problems.append(problem)
    if problems:
        raise _fail([str(p) for p in sorted(problems, key=lambda p: p.line or 0)], source)
    assert config is not None
    if base_dir is not None:
        _resolve_paths(config, base_dir)
    config._source = _path.resolve() if _path is not None else None
    return config


class _Reader:
    """Builds plain data from the YAML node tree, remembering the line of every key and list item."""

    def __init__(self, source: str, env: Mapping[str, str]) -> None:
        self.source = source
        self.env = env
        self.lines: dict[Loc, int] = {}
        self.raw: dict[Loc, str] = {}
        self.problems: list[Problem] = []
        self._loader: yaml.SafeLoader | None = None
        self._stack: list[int] = []
        self._flat: set[int] = set()  # mappings whose merge keys are resolved
        self._merges = True  # whether the text may hold merge keys at all (libyaml's composer tells)
        self._nodes = 0

    def parse(self, text: str) -> dict[str, Any]:
        """Three ways to read the text, each taking what the one before leaves: a plain document (no
        anchors, aliases, merge keys, explicit tags or repeated keys: nearly every config) straight
        from libyaml's events into data; any other document libyaml reads as a node tree, walked
        here; what libyaml refuses (or without libyaml) PyYAML's pure-Python loader, which says
        exactly what is wrong. A property test holds the first two to the same data, lines and
        problems."""
        c_loader = getattr(yaml, "CSafeLoader", None)
        clean = c_loader is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text)
        self._loader = yaml.SafeLoader("")  # only its constructor is used from here on
        if c_loader is not None and clean:
            events = c_loader(text)
            try:
                data = self._plain_document(events)
            except (_NotPlain, yaml.YAMLError):
                data = None
            finally:
                events.dispose()
            if data is not None:
                return data
            self.lines, self.raw, self.problems, self._nodes = {}, {}, [], 0  # read it again below
        composed = _compose_fast(text) if clean else None
        if composed is not None:
            self._merges = composed[1]
            return self._data(composed[0])
        loader: _BoundedLoader | None = None
        try:
            loader = self._loader = _BoundedLoader(text)  # its reader checks the characters at once
            node = loader.get_single_node()
        except _TooMany as err:
            raise _fail([f"{self.source}:{err.line}: more than {_MAX_NODES} YAML nodes: not a config file"]) from None
        except _TooDeep as err:
            raise _fail([f"{self.source}:{err.line}: nested deeper than {MAX_DEPTH} levels"]) from None
        except yaml.MarkedYAMLError as err:
            raise _fail([_yaml_message(self.source, err)]) from None
        except yaml.YAMLError as err:  # e.g. ReaderError: a character YAML does not allow
            raise _fail([f"{self.source}: invalid YAML: {' '.join(str(err).split())}"]) from None
        finally:
            if loader is not None:
                loader.dispose()
        return self._data(node)

    def _plain_document(self, events: Any) -> dict[str, Any] | None:
        """The data of a plain document, read from libyaml's event stream as ``_data`` reads the node
        tree; ``_NotPlain`` (or None) as soon as it is anything else, for the node tree to read."""
        get = events.get_event
        resolve = events.resolve
        get()  # StreamStart
        if type(get()) is not yaml.DocumentStartEvent:
            return None
        top: Any = get()
        if type(top) is not yaml.MappingStartEvent or top.anchor is not None or top.tag is not None:
            return None
        tags: dict[tuple[str, tuple[bool, bool]], str] = {}
        mark: Any = top.start_mark
        self.lines[()] = mark.line + 1
        self._nodes = 1
        root: dict[str, Any] = {}
        # per open collection: [the collection, its loc, expand, raw_strings, keys seen (None: a list),
        # the key whose value comes next (None: a key comes next)]
        stack: list[list[Any]] = [[root, (), True, False, {}, None]]
        while stack:
            event = get()
            kind = type(event)
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
                continue
            if kind is yaml.AliasEvent or event.anchor is not None or event.tag is not None:
                raise _NotPlain
            frame = stack[-1]
            into, loc, expand, raw_strings, first, key = frame
            line = event.start_mark.line + 1
            if first is not None and key is None:  # a mapping's key
                if kind is not yaml.ScalarEvent:
                    raise _NotPlain  # the node tree reports a key that is not text
                key = event.value
                if key in first or (key == "<<" and self._resolved(tags, resolve, event) == _MERGE):
                    raise _NotPlain  # a repeated key (reported there), a merge key (resolved there)
                first[key] = line
                self.lines[(*loc, key)] = line
                frame[5] = key
                continue
            if first is not None:
                at: Loc = (*loc, key)
                frame[5] = None
                child_expand, child_raw = expand and not key.endswith("_env"), raw_strings or key == "tags"
            else:
                at = (*loc, len(into))
                self.lines[at] = line
                child_expand, child_raw = expand, raw_strings
            self._nodes += 1
            if self._nodes > _MAX_NODES:
                raise _NotPlain
            if kind is yaml.ScalarEvent:
                tag = self._resolved(tags, resolve, event)
                if first is not None and tag == _STR and key.endswith("_env") and not _ENV_NAME.match(event.value):
                    self._env_value_problem(at, self.lines[at])
                if tag == _STR:  # ``_scalar``'s reading of text, without a node to read it from
                    value: Any = event.value
                    self.raw[at] = value
                    if child_expand and "${" in value:
                        value = self._expand(value, at, line)
                else:
                    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                    value = self._scalar(node, at, expand=child_expand, raw_strings=child_raw)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if len(stack) >= MAX_DEPTH:
                    raise _NotPlain
                value = {} if kind is yaml.MappingStartEvent else []
                stack.append([value, at, child_expand, child_raw, {} if isinstance(value, dict) else None, None])
            else:
                raise _NotPlain
            if first is not None:
                into[key] = value
            else:
                into.append(value)
        if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
            raise _NotPlain  # several documents
        return root

    @staticmethod
    def _resolved(tags: dict[tuple[str, tuple[bool, bool]], str], resolve: Any, event: Any) -> str:
        """A scalar's implicit tag, asked of the resolver once per distinct text."""
        key = (event.value, event.implicit)
        tag = tags.get(key)
        if tag is None:
            tag = tags[key] = resolve(ScalarNode, event.value, event.implicit)
        return tag

    def _env_value_problem(self, loc: Loc, line: int) -> None:
        # never echo the value: it may be the secret itself
        self.problems.append(
            Problem(
                self.source,
                line,
                format_loc(loc),
                "expected the NAME of an environment variable (like SMTP_PASSWORD), not its value",
            )
        )

    def _data(self, node: Node | None) -> dict[str, Any]:
        if node is None:
            raise _fail([f"{self.source}: the file is empty (run `failover init` for a commented example)"])
        if not isinstance(node, MappingNode):
            kind = "a list" if isinstance(node, SequenceNode) else f"{_scalar_text(node)!r}"
            raise _fail(
                [
                    f"{self.source}:{_line(node)}: expected a mapping (accounts:, workloads:, ...) "
                    f"at the top level, got {kind}"
                ]
            )
        self.lines[()] = _line(node)
        try:
            data = self._value(node, (), expand=True, raw_strings=False)
        except _TooBig:
            raise _fail([f"{self.source}: too many nodes after expanding aliases (over {_MAX_NODES})"]) from None
        return data if isinstance(data, dict) else {}

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.source, self.line_of(loc), format_loc(loc), message)

    def line_of(self, loc: Loc) -> int | None:
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def _value(self, node: Node, loc: Loc, *, expand: bool, raw_strings: bool) -> Any:
        self._nodes += 1
        if self._nodes > _MAX_NODES:
            raise _TooBig
        if isinstance(node, ScalarNode):
            return self._scalar(node, loc, expand=expand, raw_strings=raw_strings)
        if id(node) in self._stack:
            self.problems.append(Problem(self.source, _line(node), format_loc(loc), "recursive YAML alias"))
            return None
        if len(self._stack) >= MAX_DEPTH:  # aliases can nest deeper than the text does
            self.problems.append(
                Problem(self.source, _line(node), format_loc(loc), f"nested deeper than {MAX_DEPTH} levels")
            )
            return None
        self._stack.append(id(node))
        try:
            if isinstance(node, SequenceNode):
                items = []
                for i, item in enumerate(node.value):
                    self.lines[(*loc, i)] = item.start_mark.line + 1
                    items.append(self._value(item, (*loc, i), expand=expand, raw_strings=raw_strings))
                return items
            assert isinstance(node, MappingNode)
            return self._mapping(node, loc, expand=expand, raw_strings=raw_strings)
        finally:
            self._stack.pop()

    def _mapping(self, node: MappingNode, loc: Loc, *, expand: bool, raw_strings: bool) -> dict[str, Any]:
        assert self._loader is not None
        written = node.value
        if self._merges:
            try:
                self._flatten(node)  # resolves `<<: *anchor` merge keys
            except _BadMerge as err:
                self.problems.append(Problem(self.source, _line(err.node), format_loc(loc), str(err)))
                return {}
        # keys written in this mapping (not merged in); all of them unless a merge replaced the list
        own = None if node.value is written else {id(k) for k, _ in written}
        result: dict[str, Any] = {}
        first: dict[str, tuple[int, bool]] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, ScalarNode):
                self.problems.append(Problem(self.source, _line(knode), format_loc(loc), "expected a plain text key"))
                continue
            key = knode.value  # keys as written: `on:` or `1:` stay text
            line = knode.start_mark.line + 1
            is_own = own is None or id(knode) in own
            at = (*loc, key)
            if key in first:
                first_line, first_own = first[key]
                if first_own and is_own:
                    self.problems.append(
                        Problem(self.source, line, format_loc(at), f"duplicate key (first given on line {first_line})")
                    )
                    continue
            first[key] = (line, is_own)
            self.lines[at] = line
            names_env = key.endswith("_env")
            if names_env and isinstance(vnode, ScalarNode) and vnode.tag == _STR and not _ENV_NAME.match(vnode.value):
                self._env_value_problem(at, line)
            result[key] = self._value(
                vnode, at, expand=expand and not names_env, raw_strings=raw_strings or key == "tags"
            )
        return result

    def _flatten(self, root: MappingNode) -> None:
        """PyYAML's ``flatten_mapping`` (merged pairs first, later merge sources before earlier ones, so
        the mapping's own keys and then the first source win), without its recursion: a chain of
        thousands of ``<<: *a`` would exhaust the stack. Each mapping is flattened once; a merge of a
        mapping into itself is refused."""
        busy: set[int] = set()
        stack: list[tuple[MappingNode, bool]] = [(root, False)]
        while stack:
            node, sources_done = stack.pop()
            if id(node) in self._flat:
                continue
            sources = [(i, v) for i, (k, v) in enumerate(node.value) if k.tag == _MERGE]
            if not sources:
                self._flat.add(id(node))
                continue
            mappings: list[MappingNode] = []
            for _, value in sources:
                items = value.value if isinstance(value, SequenceNode) else [value]
                for item in items:
                    if not isinstance(item, MappingNode):
                        raise _BadMerge("expected a mapping or a list of mappings after <<:", value)
                    mappings.append(item)
            if not sources_done:
                busy.add(id(node))
                stack.append((node, True))
                for m in mappings:
                    if id(m) in busy:
                        raise _BadMerge("a mapping cannot be merged into itself", m)
                    stack.append((m, False))
                continue
            merged: list[tuple[Node, Node]] = []
            for _, value in sources:
                if isinstance(value, SequenceNode):
                    for item in reversed(value.value):
                        merged.extend(item.value)
                else:
                    merged.extend(value.value)
            self._nodes += len(merged)
            if self._nodes > _MAX_NODES:
                raise _TooBig
            merge_at = {i for i, _ in sources}
            node.value = merged + [pair for i, pair in enumerate(node.value) if i not in merge_at]
            busy.discard(id(node))
            self._flat.add(id(node))

    def _scalar(self, node: ScalarNode, loc: Loc, *, expand: bool, raw_strings: bool) -> Any:
        assert self._loader is not None
        plain = not node.style  # None from PyYAML's composer, "" from libyaml's
        if plain and (raw_strings or node.tag == _TIMESTAMP or (node.tag in (_INT, _FLOAT) and ":" in node.value)):
            # Tag values are text in every cloud; `08:00`, `10:30` and dates are meant as text too,
            # not as YAML 1.1 base-60 numbers or date objects.
            value: Any = node.value
        elif node.tag == _STR:
            value = node.value
        else:
            try:
                value = self._loader.construct_object(node)
            except yaml.YAMLError as err:
                message = getattr(err, "problem", None) or str(err)
                self.problems.append(Problem(self.source, _line(node), format_loc(loc), " ".join(message.split())))
                return None
            except (ValueError, OverflowError, TypeError) as err:  # `!!int` of 5000 digits, `!!timestamp 2026-13-45`
                message = f"cannot read {_short(node.value)} as {node.tag.rpartition(':')[2]}: {err}"
                self.problems.append(Problem(self.source, _line(node), format_loc(loc), " ".join(message.split())))
                return None
        if isinstance(value, str):
            self.raw[loc] = value
            if expand:
                value = self._expand(value, loc, _line(node))
        return value

    def _expand(self, text: str, loc: Loc, line: int) -> str:
        """``${NAME}``, ``${NAME:-default}`` (default when unset or empty); ``$${`` is a literal ``${``."""

        def sub(m: re.Match[str]) -> str:
            token = m.group(0)
            if token == "$${":
                return "${"
            body = m.group("body")
            parsed = _ENV_BODY.match(body) if body is not None else None
            if parsed is None:
                shown = token if body is None else "${" + body + "}"
                self.problems.append(
                    Problem(
                        self.source,
                        line,
                        format_loc(loc),
                        f"expected ${{NAME}} or ${{NAME:-default}}, got {shown!r} (write $${{ for a literal ${{)",
                    )
                )
                return token
            name, default = parsed.group("name"), parsed.group("default")
            value = self.env.get(name)
            if default is not None:
                return value if value else default
            if value is None:
                self.problems.append(
                    Problem(
                        self.source,
                        line,
                        format_loc(loc),
                        f"environment variable {name} is not set (write ${{{name}:-default}} to give a default)",
                    )
                )
                return ""
            return value

        return _ENV_REF.sub(sub, text) if "${" in text else text


class _TooBig(Exception):
    pass


class _NotPlain(Exception):
    """The document is not one ``_Reader._plain_document`` reads: the node tree reads it."""


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _TooMany(_TooDeep):
    pass


class _BadMerge(Exception):
    def __init__(self, message: str, node: Node) -> None:
        super().__init__(message)
        self.node = node


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing to compose nodes nested deeper than ``MAX_DEPTH`` (its composer
    recurses once per level, so 500 nested brackets would end in a RecursionError) or more than
    ``_MAX_NODES`` of them (10 MB of `[1,1,...]` would take minutes and gigabytes to compose)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._count = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._count += 1
        if self._count > _MAX_NODES:
            raise _TooMany(int(self.peek_event().start_mark.line) + 1)
        if self._depth >= MAX_DEPTH:
            raise _TooDeep(int(self.peek_event().start_mark.line) + 1)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose_fast(text: str) -> tuple[Node, bool] | None:
    """The node tree PyYAML's composer builds, from libyaml's events (10x PyYAML's pure-Python parser),
    with the same tags and marks. ``None`` when libyaml is absent or the text is anything but a clean
    single document (bad characters, a syntax error, several documents, an undefined or repeated
    anchor, too deep or too many nodes): the pure-Python loader then reads it again and reports
    exactly what it always did. Composed here in one pass over the flat event stream, so the bounds
    are checked before anything recurses, and a plain scalar's implicit tag is resolved once per
    distinct text (libyaml's own composer asks the Python resolver for every scalar). With the tree
    comes whether any key may be a merge key (``<<``), so a text without one skips their resolution."""
    c_loader = getattr(yaml, "CSafeLoader", None)
    if c_loader is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    events = c_loader(text)
    try:
        return _compose_events(events)
    except yaml.YAMLError:
        return None
    finally:
        events.dispose()


def _compose_events(events: Any) -> tuple[Node, bool] | None:
    get = events.get_event
    resolve = events.resolve
    get()  # StreamStart
    if isinstance(get(), yaml.StreamEndEvent):
        return None  # an empty stream: the pure-Python loader says so
    tags: dict[tuple[str, tuple[bool, bool]], str] = {}
    explicit = False  # a tag written in the text (`!!merge` among them)
    anchors: dict[str, Node] = {}
    root: list[Node] = []
    stack: list[tuple[MappingNode | SequenceNode, list[Any]]] = []
    items: list[Any] = root
    count = 0
    while True:
        event = get()
        kind = type(event)
        if kind is yaml.ScalarEvent or kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            count += 1
            if count > _MAX_NODES:
                return None
            tag = event.tag
            explicit = explicit or tag is not None
            if kind is yaml.ScalarEvent:
                if tag is None or tag == "!":
                    key = (event.value, event.implicit)
                    tag = tags.get(key)
                    if tag is None:
                        tag = tags[key] = resolve(ScalarNode, event.value, event.implicit)
                node: Node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            elif len(stack) >= MAX_DEPTH:
                return None
            else:
                cls = SequenceNode if kind is yaml.SequenceStartEvent else MappingNode
                if tag is None or tag == "!":
                    tag = resolve(cls, None, event.implicit)
                node = cls(tag, [], event.start_mark, None, flow_style=event.flow_style)
            if event.anchor is not None:
                if event.anchor in anchors:
                    return None
                anchors[event.anchor] = node
            items.append(node)
            if kind is not yaml.ScalarEvent:
                stack.append((node, items))  # type: ignore[arg-type]
                items = []
        elif kind is yaml.AliasEvent:
            count += 1
            target = anchors.get(event.anchor)
            if target is None or count > _MAX_NODES:
                return None
            items.append(target)
        elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
            node, outer = stack.pop()
            node.value = items if kind is yaml.SequenceEndEvent else list(zip(items[::2], items[1::2], strict=True))
            node.end_mark = event.end_mark
            items = outer
        elif kind is yaml.DocumentEndEvent:
            break
    if not isinstance(get(), yaml.StreamEndEvent) or not root:
        return None  # several documents
    return root[0], explicit or _MERGE in tags.values()


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _scalar_text(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else type(node).__name__


def _yaml_message(source: str, err: yaml.MarkedYAMLError) -> str:
    mark = err.problem_mark or err.context_mark
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    problem = err.problem or err.context or "could not parse"
    context = f" ({err.context})" if err.context and err.problem else ""
    return f"{where}: invalid YAML: {problem}{context}"


def _fail(problems: list[str], source: str | None = None) -> ConfigError:
    """One problem reads as one line; several get a header and one line each, at most
    ``_MAX_PROBLEMS`` of them (a file of 100,000 unknown keys must not flood the terminal)."""
    total = len(problems)
    if total == 1:
        err = ConfigError(problems[0])
        err.problems = list(problems)
        return err
    if total > _MAX_PROBLEMS:
        more = f"{total - _MAX_PROBLEMS} more problems not shown: fix these first"
        problems = [*problems[:_MAX_PROBLEMS], f"{source}: {more}" if source else more]
    header = f"{source}: {total} problems" if source else f"{total} problems"
    return ConfigError(header, problems=problems)


def format_loc(loc: Loc) -> str:
    """``workloads[0].targets.rto`` from ``("workloads", 0, "targets", "rto")``."""
    out = ""
    for seg in loc:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif _PLAIN_KEY.match(seg):
            out += f".{seg}" if out else seg
        else:
            out += f"[{seg!r}]"
    return out


# -------------------------------------------------------------------------------------- extra checks


def _database_problems(reader: _Reader, data: dict[str, Any]) -> list[Problem]:
    raw = reader.raw.get(("database",))
    if raw is None:
        return []
    problems = []
    value = data.get("database")
    reported = any(p.path == "database" for p in reader.problems) or control_character(str(value))  # by the schema
    if isinstance(value, str) and value.strip() and not reported:
        from failover.store.urls import check_database_url

        try:
            check_database_url(value)
        except ValueError as err:
            problems.append(reader.problem(("database",), str(err)))
    try:
        password = urlsplit(raw).password
    except ValueError:
        password = None
    if password and not re.fullmatch(r"\$\{[^{}]*\}", password):
        problems.append(
            reader.problem(
                ("database",),
                "a password written in the file is not allowed: use ${VAR} in the URL, PGPASSWORD, "
                "or set the whole URL in FAILOVER_DATABASE_URL",
            )
        )
    return problems


def _token_problems(reader: _Reader) -> list[Problem]:
    """``daemon.status_token`` is a secret: it comes from the environment, never the file itself."""
    raw = reader.raw.get(("daemon", "status_token"))
    if raw is None or re.search(r"\$\{[^{}]+\}", raw):
        return []
    return [
        reader.problem(
            ("daemon", "status_token"),
            "a token written in the file is not allowed: write status_token: ${VAR} and set VAR in the "
            "daemon's environment",
        )
    ]


def _rough_cross_references(data: dict[str, Any]) -> list[tuple[Loc, str]]:
    """Cross-reference problems of data that failed validation elsewhere: an unvalidated ``Config``
    holding just what ``cross_reference_problems`` reads (names, roles, accounts)."""

    def entries(value: Any) -> list[dict[str, Any]]:
        return [v if isinstance(v, dict) else {} for v in value] if isinstance(value, list) else []

    def name(value: Any, placeholder: str) -> str:
        return value if isinstance(value, str) else placeholder  # invalid names were reported already

    accounts = [
        Account.model_construct(name=name(a.get("name"), f"<accounts[{i}]>"))
        for i, a in enumerate(entries(data.get("accounts")))
    ]
    # with a broken accounts list, "unknown account" at every site would only be noise
    raw_accounts = data.get("accounts")
    accounts_whole = isinstance(raw_accounts, list) and all(
        isinstance(a, dict) and isinstance(a.get("name"), str) for a in raw_accounts
    )
    workloads = []
    unsure: set[Loc] = set()  # a workload with an invalid role: "no primary" would only repeat it
    for wi, w in enumerate(entries(data.get("workloads"))):
        sites = []
        for si, site in enumerate(entries(w.get("sites"))):
            if site.get("role") not in ("primary", "secondary"):
                unsure.add(("workloads", wi, "sites"))
            sites.append(
                Site.model_construct(
                    name=name(site.get("name"), f"<site {si}>"),
                    role=site.get("role"),
                    account=name(site.get("account"), f"<workloads[{wi}].sites[{si}].account>"),
                )
            )
        workloads.append(Workload.model_construct(name=name(w.get("name"), f"<workloads[{wi}]>"), sites=sites))
    rough = Config.model_construct(accounts=accounts, workloads=workloads)
    return [
        (loc, message)
        for loc, message in rough.cross_reference_problems()
        if loc not in unsure and (accounts_whole or loc[-1] != "account")
    ]


def _resolve_paths(config: Config, base: Path) -> None:
    def resolve(value: str) -> str:
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else base / p)

    if config.tls.ca_file:
        config.tls.ca_file = resolve(config.tls.ca_file)
    if config.mail is not None and config.mail.smtp.ca_file:
        config.mail.smtp.ca_file = resolve(config.mail.smtp.ca_file)
    for w in config.workloads:
        for s in w.sites:
            for e in s.endpoints:
                if e.ca_file:
                    e.ca_file = resolve(e.ca_file)
    if config.database and "://" not in config.database:
        config.database = resolve(config.database)  # a bare path is a SQLite file
    elif config.database:
        m = _SQLITE.match(config.database)
        if m and m.group("path") and m.group("path") != ":memory:" and not m.group("path").startswith("file:"):
            config.database = m.group("prefix") + resolve(m.group("path")) + (m.group("query") or "")


# -------------------------------------------------------------------------------- pydantic → humans


def _validation_problems(err: ValidationError, data: Any, reader: _Reader) -> list[Problem]:
    """Map pydantic's errors to located, human lines; one line per field, union branches merged."""
    by_path: dict[Loc, list[tuple[dict[str, Any], bool]]] = {}
    for e in err.errors():
        path, union_at = _data_path(data, tuple(e["loc"]), e["type"])
        if union_at is not None and path == union_at:
            by_path.setdefault(union_at, []).append((dict(e), True))
        else:
            by_path.setdefault(path, []).append((dict(e), union_at is not None))
    # A union branch that got deeper into the value (a list item) explains it better than the others.
    for path in list(by_path):
        if any(is_branch for _, is_branch in by_path[path]):
            deeper = [p for p in by_path if len(p) > len(path) and p[: len(path)] == path and p != path]
            if deeper and all(is_branch for _, is_branch in by_path[path]):
                del by_path[path]
    problems = []
    for path, errors in by_path.items():
        messages = [_human(e, path) for e, _ in errors]
        if path and str(path[-1]).endswith("_env"):
            messages = [(text, None) for text, _ in messages]
        problems.append(reader.problem(path, _merge(messages)))
    return problems


def _data_path(data: Any, loc: Loc, kind: str) -> tuple[Loc, Loc | None]:
    """Drop pydantic's union-branch labels (``int``, ``list[int]``) from ``loc``, keeping data keys.

    Returns the path and, if a label was dropped, the path of the union field.
    """
    path: list[str | int] = []
    current = data
    union_at: Loc | None = None
    for i, seg in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(current, dict) and isinstance(seg, str):
            if seg in current:
                current = current[seg]
                path.append(seg)
                continue
            if last and kind in ("missing", "extra_forbidden"):
                path.append(seg)
                continue
        if isinstance(current, list) and isinstance(seg, int) and 0 <= seg < len(current):
            current = current[seg]
            path.append(seg)
            continue
        if isinstance(seg, str) and union_at is None:
            union_at = tuple(path)
    return tuple(path), union_at


def _merge(messages: list[tuple[str, str | None]]) -> str:
    """Join ``(expected, got)`` pairs from union branches into one ``expected A or B, got X``."""
    seen: list[str] = []
    for text, _ in messages:
        if text not in seen:
            seen.append(text)
    got = next((g for _, g in messages if g is not None), None)
    if len(seen) > 1 and all(s.startswith("expected ") for s in seen):
        text = "expected " + " or ".join(s.removeprefix("expected ") for s in seen)
    else:
        text = "; ".join(seen)
    return f"{text}, got {got}" if got is not None else text


_PATTERNS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$": "expected a name of letters, digits and _.:- starting with a letter or digit",
    r"^([01]\d|2[0-3]):[0-5]\d$": 'expected a time of day as "HH:MM" (24-hour)',
}

_TYPES = {
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
}


def _human(e: dict[str, Any], path: Loc) -> tuple[str, str | None]:
    kind: str = e["type"]
    ctx: dict[str, Any] = e.get("ctx") or {}
    value = e.get("input")
    if kind == "missing":
        return "missing required field", None
    if kind == "extra_forbidden":
        return _unknown_field(path), None
    if kind == "value_error":
        return str(ctx.get("error") or e["msg"]).removeprefix("Value error, "), None
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        allowed = re.findall(r"'([^']*)'", expected)
        hint = difflib.get_close_matches(str(value), allowed, n=1) if isinstance(value, str) else []
        text = f"expected one of {', '.join(allowed)}" if allowed else f"expected {expected}"
        return text + (f" (did you mean {hint[0]!r}?)" if hint else ""), _short(value)
    if kind == "too_short":
        if path and path[-1] == "sites":
            return "expected at least two sites (a primary and a secondary)", None
        n = ctx.get("min_length")
        return f"expected at least {n} item{'s' if n != 1 else ''}", None
    if kind == "too_long":
        return f"expected at most {ctx.get('max_length')} items", None
    if kind == "string_too_short":
        return "expected a non-empty value", None
    if kind == "string_too_long":
        return f"expected at most {ctx.get('max_length')} characters", None
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return _PATTERNS.get(pattern, f"expected text matching {pattern}"), _short(value)
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()), "?")
        return f"expected a number {bounds[kind]} {limit}", _short(value)
    if kind in _TYPES:
        return _TYPES[kind], _short(value)
    msg = str(e.get("msg", kind))
    return msg[:1].lower() + msg[1:], None


def _unknown_field(path: Loc) -> str:
    model = _model_at(path[:-1])
    name = str(path[-1]) if path else ""
    if model is None:
        return "unknown field"
    known = [f.alias or n for n, f in model.model_fields.items()]
    if f"{name}_env" in known:
        return f"unknown field: secrets are never read from the file; use {name}_env: VARIABLE_NAME"
    hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if hint:
        return f"unknown field (did you mean {hint[0]!r}?)"
    if len(known) <= 16:  # the top level and the largest sections still fit on a line
        return f"unknown field (expected one of: {', '.join(known)})"
    return "unknown field"


def _model_at(path: Loc) -> type[BaseModel] | None:
    """The schema model that describes the value at ``path`` (for listing its known keys)."""
    t: Any = Config
    for seg in path:
        t = _unwrap(t)
        if isinstance(seg, int):
            if typing.get_origin(t) is list:
                t = typing.get_args(t)[0]
                continue
            return None
        if not (isinstance(t, type) and issubclass(t, BaseModel)):
            return None
        field = next((f for n, f in t.model_fields.items() if seg in (n, f.alias)), None)
        if field is None:
            return None
        t = field.annotation
    t = _unwrap(t)
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def _unwrap(t: Any) -> Any:
    if typing.get_origin(t) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(t) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return t


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
