"""Does the secondary run what the primary runs: same `version` tag, same image where comparable."""

from __future__ import annotations

from failover.attrs import attrs_of
from failover.checks.evidence import Evidence
from failover.checks.registry import Category, Severity, check, info
from failover.equivalence import COMPUTE_KINDS
from failover.model import Finding, FindingStatus, Kind, Resource


def _versions(resources: list[Resource]) -> set[str]:
    return {r.tags["version"] for r in resources if r.kind in COMPUTE_KINDS and r.tags.get("version")}


def _images(resources: list[Resource]) -> set[str]:
    images = (attrs_of(r, Kind.COMPUTE_INSTANCE)["image"] for r in resources if r.kind == Kind.COMPUTE_INSTANCE)
    return {str(image) for image in images if image}


@check(
    "drift.version",
    title="Secondary runs the primary's version",
    category=Category.DRIFT,
    severity=Severity.MEDIUM,
    doc="""Compares the `version` tag (or label) of compute resources between the primary and each
    secondary, and their images where both sites are on the same provider (image ids are not comparable
    across clouds). A secondary left on last month's release fails over into old code, old schemas
    and old bugs. Fix: deploy to every site in the same pipeline, and tag compute with `version`.""",
)
def drift_version(ev: Evidence) -> list[Finding]:
    me = info("drift.version")
    primary = ev.workload.primary
    p_res = ev.resources(primary)
    p_versions, p_images = _versions(p_res), _images(p_res)
    findings = []
    for site in ev.workload.secondaries:
        s_res = ev.resources(site)
        gaps = ev.gaps(primary) + ev.gaps(site)
        s_versions = _versions(s_res)
        subject = site.name
        evidence = {"primary_versions": sorted(p_versions), "secondary_versions": sorted(s_versions)}
        if p_versions and s_versions:
            if p_versions == s_versions:
                status, reason = FindingStatus.PASS, f"{site.name} runs version {', '.join(sorted(s_versions))}"
            else:
                status = FindingStatus.FAIL
                reason = (
                    f"{site.name} runs version {', '.join(sorted(s_versions))}, "
                    f"primary runs {', '.join(sorted(p_versions))}"
                )
        elif gaps:
            status, reason = FindingStatus.UNKNOWN, f"inventory incomplete for {site.name}"
        else:
            missing = [n for n, v in ((primary.name, p_versions), (site.name, s_versions)) if not v]
            status, reason = FindingStatus.UNKNOWN, f"no version tag on compute in {', '.join(missing)}"
        if status != FindingStatus.FAIL and ev.provider(site) == ev.provider(primary):
            s_images = _images(s_res)
            evidence.update(primary_images=sorted(p_images), secondary_images=sorted(s_images))
            if p_images and s_images and p_images != s_images:
                status = FindingStatus.FAIL if status == FindingStatus.UNKNOWN else FindingStatus.WARN
                reason += f"; images differ ({', '.join(sorted(s_images))} vs {', '.join(sorted(p_images))})"
        findings.append(me.finding(ev, status, reason, subject=subject, **evidence))
    return findings
