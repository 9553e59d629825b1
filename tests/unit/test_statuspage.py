"""The status page renderer on data: sparklines, the what-if matrix, links, and hostile text shown
as text. No store, no server (those are in tests/integration/test_statuspage*.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from failover.checks import CATALOG
from failover.model import Finding, FindingStatus, RtoVerdict, Score, Status
from failover.schema import Config
from failover.statuspage.model import (
    WhatIfMatrix,
    daily_series,
    file_stems,
    served_links,
    static_links,
)
from failover.statuspage.render import render_index, render_workload
from failover.statuspage.source import DEFAULT_DOCS_URL, Snapshot, index_page, workload_page
from failover.statuspage.sparkline import sparkline, trend_words
from failover.whatif import Domain, Survival, WhatIf
from tests.fixtures.smtp import mail_config_data
from tests.fixtures.statuspage import HOSTILE, HOSTILE_NAME, whatif_rows

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"
REPO = Path(__file__).resolve().parents[2]


def answer(workload: str, survives: Survival, serving_site: str | None = None) -> WhatIf:
    """One workload's what-if answer with AWS down, the rest unknown."""
    return WhatIf(workload, Domain("aws"), survives, serving_site, None, RtoVerdict.UNKNOWN, None)


def config(**extra: object) -> Config:
    return Config.model_validate({**mail_config_data(None), **extra})


def snapshot(names: list[str], findings: list[Finding] | None = None) -> Snapshot:
    scores = {
        n: Score(
            workload=n,
            status=Status.NOT_READY if i == 0 else Status.READY,
            readiness=40.0 if i == 0 else 90.0,
            single_provider_risk={"aws": 1.0, "gcp": 0.0},
            rto_estimate_s=None if i == 0 else 300.0,
            rto_lower_bound_s=1200.0 if i == 0 else None,
            rto_target_s=900.0,
            computed_at=NOW - timedelta(minutes=2),
            details={"gates": [f"gate about {n}"], "rto": {"detection_s": 90.0, "notes": [f"note {n}"]}},
        )
        for i, n in enumerate(names)
    }
    by_workload: dict[str, list[Finding]] = {}
    for f in findings or []:
        by_workload.setdefault(f.workload, []).append(f)
    trends = {n: [None] * 25 + [90.0, 90.0, None, 60.0, 40.0] for n in names}
    return Snapshot(now=NOW, names=names, scores=scores, findings=by_workload, trends=trends)


class _Parsed(HTMLParser):
    """Tags, hrefs and text of a page, as a browser's tokenizer sees them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]
        if any(k.startswith("on") for k, _ in attrs):
            self.tags.append("event-handler-attribute")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


# -- sparkline -------------------------------------------------------------------------------


def test_sparkline_of_a_full_series_is_one_line_and_says_first_and_last_in_words() -> None:
    svg = sparkline([90.0, 80.0, 70.0, 60.0])
    root = ET.fromstring(svg)
    assert len(root.findall(f"{SVG}polyline")) == 1
    points = root.find(f"{SVG}polyline").get("points").split()  # type: ignore[union-attr]
    assert len(points) == 4
    assert float(points[0].split(",")[1]) < float(points[-1].split(",")[1])  # falling readiness goes down
    assert root.get("aria-label") == "Readiness over 4 days: 90 → 60"
    assert root.get("role") == "img"


def test_sparkline_breaks_at_days_without_a_score_and_marks_them() -> None:
    root = ET.fromstring(sparkline([90.0, 90.0, None, None, 60.0, 50.0, None, 40.0]))
    assert len(root.findall(f"{SVG}polyline")) == 2
    [dot] = root.findall(f"{SVG}circle")  # the lone last day
    assert dot.get("cx") == "118.0"  # the right edge: 120 px wide, 2 px padding
    assert "3 days without a score" in (root.get("aria-label") or "")
    gap_ticks = [e for e in root.findall(f"{SVG}line") if e.get("stroke-dasharray") is None]
    assert len(gap_ticks) == 3


def test_sparkline_of_no_scores_draws_no_line_and_says_so() -> None:
    root = ET.fromstring(sparkline([None] * 30))
    assert root.findall(f"{SVG}polyline") == [] and root.findall(f"{SVG}circle") == []
    assert root.get("aria-label") == "Readiness over 30 days: no scores; 30 days without a score"
    assert ET.fromstring(sparkline([])).get("aria-label") == "Readiness over 0 days: no scores"


def test_sparkline_of_one_point_is_a_dot_in_the_middle() -> None:
    root = ET.fromstring(sparkline([75.0], width=100))
    [dot] = root.findall(f"{SVG}circle")
    assert dot.get("cx") == "50.0" and root.findall(f"{SVG}polyline") == []
    assert trend_words([None, 75.0, None]) == "75"


def test_sparkline_clamps_values_outside_0_to_100_into_the_box() -> None:
    root = ET.fromstring(sparkline([-50.0, 150.0], height=28))
    ys = [float(p.split(",")[1]) for p in root.find(f"{SVG}polyline").get("points").split()]  # type: ignore[union-attr]
    assert all(0 <= y <= 28 for y in ys)


def test_daily_series_is_oldest_first_with_none_for_days_without_a_score() -> None:
    today = date(2026, 11, 30)
    series = daily_series([(date(2026, 11, 1), 50.0), (today, 90.0), (date(2026, 10, 1), 10.0)], today)
    assert len(series) == 30 and series[-1] == 90.0 and series[0] == 50.0
    assert series[1:-1] == [None] * 28


# -- the what-if matrix ----------------------------------------------------------------------


def test_index_renders_the_whatif_matrix_workload_by_failed_domain_with_counts() -> None:
    rows = whatif_rows()
    matrix = WhatIfMatrix.of(rows)
    assert matrix.domains == ["aws", "gcp:us-east1"] and matrix.workloads == ["checkout", "payments"]
    assert matrix.surviving("aws") == (1, 2)
    names = ["checkout", "payments", "search"]
    html = render_index(index_page(snapshot(names), config(), served_links(names), rows))
    assert "If <strong>aws</strong> went down now: 1 of 2 workloads would be serving within target." in html
    table = html[html.index('<table class="matrix">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 3  # header + checkout + payments (search was not evaluated)
    assert '<th scope="col">aws down</th>' in table and '<th scope="col">gcp:us-east1 down</th>' in table
    assert "✓ yes" in table and "✗ no" in table and "? unknown" in table
    assert "not evaluated" in table  # payments with gcp:us-east1 down: no row
    assert "<script>" not in html


def test_whatif_section_is_left_out_without_rows_and_rows_of_unlisted_workloads_are_ignored() -> None:
    names = ["checkout"]
    assert 'id="whatif"' not in render_index(index_page(snapshot(names), config(), served_links(names)))
    other = [answer("elsewhere", Survival.YES)]
    assert 'id="whatif"' not in render_index(index_page(snapshot(names), config(), served_links(names), other))


def test_workload_page_lists_its_whatif_rows_with_reasons_linked_to_the_check_docs() -> None:
    page = workload_page(snapshot(["checkout"]), config(), "checkout", "../", whatif_rows())
    html = render_workload(page)
    assert [str(r.down) for r in page.whatif] == ["aws", "gcp:us-east1"]
    assert f'href="{DEFAULT_DOCS_URL}#secondary-health"' in html
    assert "no health evidence for gcp-east" in html


# -- content ---------------------------------------------------------------------------------


def test_index_shows_status_as_words_score_rto_against_target_and_single_provider_risk() -> None:
    names = ["checkout", "search"]
    html = render_index(index_page(snapshot(names), config(), served_links(names)))
    text = " ".join(" ".join(_Parsed(html).text).split())
    assert "✗ 1 NOT_READY" in text and "✓ 1 READY" in text
    assert "> 20m / 15m over target" in text  # the lower bound alone exceeds the target
    assert "5m / 15m within target" in text
    assert "aws 100%" in text and "gcp 0%" not in text
    assert "Readiness over 30 days: 90 → 40; 26 days without a score" in html
    assert html.index("checkout") < html.index("search")  # worst first


def test_a_configured_workload_without_a_score_is_unknown_not_missing() -> None:
    snap = snapshot(["checkout"])
    snap = Snapshot(now=NOW, names=["checkout", "search"], scores=snap.scores, findings={}, trends=snap.trends)
    html = render_index(index_page(snap, config(), served_links(snap.names)))
    assert "? UNKNOWN" in html and "no score yet" in html


def test_workload_page_shows_every_finding_worst_first_with_evidence_collapsed_and_doc_links() -> None:
    findings = [
        Finding("secondary.health", "checkout", FindingStatus.PASS, "answered 200", subject="gcp-east"),
        Finding("dns.ttl", "checkout", FindingStatus.FAIL, "TTL 300s", subject="www", evidence={"ttl": 300}),
        Finding("made.up", "checkout", FindingStatus.UNKNOWN, "no evidence"),
    ]
    html = render_workload(workload_page(snapshot(["checkout"], findings), config(), "checkout", "../"))
    assert html.index("✗ fail") < html.index("? unknown") < html.index("✓ pass")
    assert "<details><summary>evidence</summary><pre>{\n  &#34;ttl&#34;: 300\n}</pre></details>" in html
    assert f'href="{DEFAULT_DOCS_URL}#dns-ttl"' in html and "DNS TTL fits the failover target" in html
    assert "gate about checkout" in html and "note checkout" in html
    assert "Findings (3)" in html


def test_every_check_links_to_the_anchor_docs_checks_md_has_for_it() -> None:
    doc = (REPO / "docs" / "checks.md").read_text()
    findings = [Finding(c, "checkout", FindingStatus.PASS, "ok") for c in CATALOG]
    html = render_workload(workload_page(snapshot(["checkout"], findings), config(), "checkout", "../"))
    anchors = set(re.findall(re.escape(DEFAULT_DOCS_URL) + r"#([A-Za-z0-9_-]+)", html))
    assert anchors == {c.anchor for c in CATALOG.values()}
    for anchor in anchors:
        assert f'<a id="{anchor}"></a>' in doc


def test_check_links_follow_mail_docs_url_when_set() -> None:
    cfg = Config.model_validate(
        {
            **mail_config_data(None),
            "mail": {
                "from": "f@example.com",
                "smtp": {"host": "localhost"},
                "docs_url": "https://docs.example.com/checks.html",
            },
        }
    )
    findings = [Finding("dns.ttl", "checkout", FindingStatus.FAIL, "TTL 300s")]
    html = render_workload(workload_page(snapshot(["checkout"], findings), cfg, "checkout", "../"))
    assert 'href="https://docs.example.com/checks.html#dns-ttl"' in html


# -- hostile text ----------------------------------------------------------------------------


def test_hostile_workload_names_messages_and_evidence_are_shown_as_text() -> None:
    findings = [
        Finding(
            "dns.ttl",
            HOSTILE_NAME,
            FindingStatus.FAIL,
            f"server said {HOSTILE}",
            subject=HOSTILE,
            evidence={"server": HOSTILE, "x": "</pre></details><script>x()</script>"},
        )
    ]
    snap = snapshot([HOSTILE_NAME], findings)
    rows = [answer(HOSTILE_NAME, Survival.NO, serving_site=HOSTILE)]
    pages = [
        render_index(index_page(snap, config(), served_links(snap.names), rows)),
        render_workload(workload_page(snap, config(), HOSTILE_NAME, "../", rows)),
    ]
    for html in pages:
        parsed = _Parsed(html)
        assert "script" not in parsed.tags and "img" not in parsed.tags
        assert "event-handler-attribute" not in parsed.tags
        text = "".join(parsed.text)
        assert "<script>alert(1)</script>" in text  # shown, as characters
        assert "\x1b" not in html and "\u202e" not in html  # control and bidi characters escaped
        assert "\\x1b[31m" in text and "\\u202e" in text
    assert "&lt;/pre&gt;&lt;/details&gt;&lt;script&gt;" in pages[1]


def test_served_links_percent_encode_names_as_one_path_segment() -> None:
    links = served_links(["shop", "a/b?c#d", "..", ".", HOSTILE_NAME])
    assert links.workload("shop") == "workloads/shop"
    assert links.workload("a/b?c#d") == "workloads/a%2Fb%3Fc%23d"
    assert links.workload("..") == "workloads/?name=.." and links.workload(".") == "workloads/?name=."
    assert links.workload(HOSTILE_NAME).startswith("workloads/evil%3Cscript%3E")
    assert links.index_from_workload == "../"


def test_file_stems_are_safe_unique_and_stable() -> None:
    names = ["shop", "Shop", "shop:eu", "shop_eu", "..", "", HOSTILE_NAME, "a" * 200]
    stems = file_stems(names)
    assert len(set(stems.values())) == len(names)
    assert len({s.lower() for s in stems.values()}) == len(names)  # case-insensitive file systems too
    assert all(re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._~-]*", s) for s in stems.values())
    assert all(len(s) <= 100 for s in stems.values())
    assert stems["shop_eu"] == "shop_eu" and stems["shop:eu"].startswith("shop_eu~")
    assert file_stems(names) == stems
    assert static_links(stems).workload("shop:eu") == f"workloads/{stems['shop:eu']}.html"


def test_the_daemon_listens_on_loopback_unless_configured() -> None:
    assert Config().daemon.listen.startswith("127.0.0.1:")
    assert Config().daemon.status_token is None
