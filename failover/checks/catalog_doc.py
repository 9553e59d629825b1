"""Render the check catalogue as Markdown (docs/checks.md). Run ``python -m failover.checks.catalog_doc``;
a test keeps the committed file in step with the code."""

from __future__ import annotations

from failover.checks import CATALOG
from failover.checks.mechanisms import MECHANISMS
from failover.checks.registry import Category, CheckInfo, RiskInput, RtoPart

_RTO = {
    RtoPart.DETECTION: "detection and decision (automatic, health-checked failover)",
    RtoPart.DNS: "DNS switch (the TTL clients may cache)",
    RtoPart.SCALE: "scale-up (the secondary already runs the capacity needed)",
    RtoPart.SCALE_BOUND: "scale-up (the secondary can grow to the capacity needed)",
}
_RISK = {
    RiskInput.SECONDARY_UP: "which secondaries would take traffic",
    RiskInput.SECONDARY_CAPACITY: "whether the secondaries run the capacity needed",
    RiskInput.DATA_COPY: "whether the primary's data survives its provider",
    RiskInput.NAMESERVERS: "which providers host the authoritative DNS",
}


def _scoring(c: CheckInfo) -> list[str]:
    """What scoring reads from the check beyond its category's weight."""
    lines = [f"- Gate: {g.describe()}." for g in c.gates]
    if c.rto_part is not None:
        lines.append(f"- RTO: its fix shortens the estimate's {_RTO[c.rto_part]}, credited in its points.")
    if c.risk is not None:
        lines.append(f"- Single-provider risk reads {_RISK[c.risk]} from it.")
    return ["", *lines] if lines else []


def render() -> str:
    lines = [
        "# Check catalogue",
        "",
        "Generated from the code by `python -m failover.checks.catalog_doc > docs/checks.md`.",
        "Check ids are public: CI gates, dashboards and the weekly email refer to them.",
        "Every check reports `unknown` when its inputs are missing or came from an incomplete inventory.",
        "",
        "Each category's findings share its weight in the readiness score (override with `scoring.weights`): "
        + ", ".join(f"{c} {c.weight:g}" for c in Category)
        + ". A gate caps readiness whatever the weights say.",
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
            *_scoring(c),
        ]
    return "\n".join(lines + _mechanisms()) + "\n"


def _mechanisms() -> list[str]:
    """The failover mechanisms ``dns.mechanism`` names, what each is judged on and the read-only calls it needs."""
    lines = [
        "",
        "## Failover mechanisms (`dns.mechanism`)",
        "",
        "`dns.failover_records`, `dns.health_check`, the RTO estimate's detection and decision parts and",
        "`dependencies.single_provider` read every mechanism through one routing path",
        "(`failover/checks/mechanisms/`). A value without a reader here is reported `unknown`.",
        "",
        "| `dns.mechanism` | what | read from | permissions |",
        "|---|---|---|---|",
    ]
    for m in sorted(MECHANISMS.values(), key=lambda m: m.id):
        lines.append(f"| `{m.id}` | {m.title} | {m.provider} | {', '.join(f'`{p}`' for p in m.permissions)} |")
    for m in sorted(MECHANISMS.values(), key=lambda m: m.id):
        lines += ["", f"### `{m.id}`", "", " ".join(m.doc.split())]
    return lines


if __name__ == "__main__":
    print(render(), end="")
