"""Render the check catalogue as Markdown (docs/checks.md). Run ``python -m failover.checks.catalog_doc``;
a test keeps the committed file in step with the code."""

from __future__ import annotations

from failover.checks import CATALOG


def render() -> str:
    lines = [
        "# Check catalogue",
        "",
        "Generated from the code by `python -m failover.checks.catalog_doc > docs/checks.md`.",
        "Check ids are public: CI gates, dashboards and the weekly email refer to them.",
        "Every check reports `unknown` when its inputs are missing or came from an incomplete inventory.",
        "",
        "| id | category | severity | title |",
        "|---|---|---|---|",
    ]
    ordered = sorted(CATALOG.values(), key=lambda c: (c.category, c.id))
    lines += [f"| [`{c.id}`](#{c.anchor}) | {c.category} | {c.severity} | {c.title} |" for c in ordered]
    for c in ordered:
        lines += [
            "",
            f'<a id="{c.anchor}"></a>',
            f"## `{c.id}`: {c.title}",
            "",
            f"Category `{c.category}`, severity `{c.severity}`.",
            "",
            c.doc,
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
