"""The typed contract between providers and checks: every kind's attrs are declared once."""

from __future__ import annotations

from pathlib import Path
from typing import get_type_hints

import pytest

from failover.attrs import ATTRS, attrs_of, declared_keys, render_doc
from failover.model import Kind, Resource


def test_every_kind_declares_its_attrs():
    assert set(ATTRS) == set(Kind)


def test_each_kinds_declared_keys_are_its_typeddicts_annotations_bases_included():
    for kind, declared in ATTRS.items():
        assert declared_keys(kind) == frozenset(get_type_hints(declared)), kind


def test_docs_attrs_md_is_generated_from_the_declarations():
    committed = (Path(__file__).parents[2] / "docs" / "attrs.md").read_text()
    assert committed == render_doc(), "run: python -m failover.attrs > docs/attrs.md"


def test_a_declared_key_the_provider_left_out_reads_as_unknown():
    group = Resource("gcp", "dr", "us-east1", Kind.COMPUTE_GROUP, "mig", "mig-1", "mig-1", attrs={"desired": 3})
    view = attrs_of(group, Kind.COMPUTE_GROUP)
    assert view["desired"] == 3 and view["max_size"] is None


def test_an_undeclared_key_is_an_error_not_a_silent_none():
    group = Resource("gcp", "dr", "us-east1", Kind.COMPUTE_GROUP, "mig", "mig-1", "mig-1")
    with pytest.raises(KeyError):
        attrs_of(group, Kind.COMPUTE_GROUP)["target_size"]  # type: ignore[typeddict-item]


def test_asking_for_the_wrong_kind_is_a_bug():
    bucket = Resource("aws", "a", "us-east-1", Kind.STORAGE_BUCKET, "s3:bucket", "b", "b")
    with pytest.raises(TypeError):
        attrs_of(bucket, Kind.COMPUTE_GROUP)


def test_checks_scoring_and_equivalence_read_attrs_only_through_their_declared_types():
    """``r.attrs`` is a plain dict to mypy; ``attrs_of`` is what makes an undeclared key an error."""
    import ast

    root = Path(__file__).parents[2] / "failover"
    sources = [*sorted((root / "checks").glob("*.py")), root / "scoring.py", root / "equivalence.py"]
    raw = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr == "attrs":
                raw.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert raw == [], "read through failover.attrs.attrs_of: " + ", ".join(raw)
