"""``global-accelerator``: an AWS Global Accelerator whose static anycast IPs the public name resolves to,
failing over from the primary's endpoints to a healthy, non-zero-weight endpoint of the secondary in
another (or the same) endpoint group of each listener.

Global Accelerator sends a client to the nearest endpoint group (scaled by its traffic dial) and, inside
it, to healthy endpoints by weight; when a group has no healthy endpoint it sends the traffic to the next
group that has one, whatever that group's traffic dial (a dial-0 group still takes failover traffic), and
an endpoint of weight 0 takes none. So a path to the secondary is a healthy endpoint of the secondary's
with a weight above 0 in any group of the listener; the dial is not judged. It detects a dead EC2 instance
or Elastic IP endpoint from the endpoint group's health checks (interval x threshold) and an ALB/NLB
endpoint from the load balancer's own target-group health checks. When no endpoint is healthy it fails
open (sends traffic to every endpoint). Clients keep the same static IPs through a failover, so no DNS
TTL delays it. Its configuration API runs in us-west-2 and its data plane is AWS's edge network: both
AWS (``facts``: ``failover.checks.accelerator_path``).
"""

from __future__ import annotations

from typing import Any

from failover.attrs import attrs_of
from failover.checks.accelerator_path import AcceleratorPath, GaEndpoint, accelerator_path, own_names
from failover.checks.common import join
from failover.checks.evidence import Evidence
from failover.checks.governance import Governor, Mode, Who, find_load_balancer, load_balancer_health
from failover.checks.mechanisms.base import Answer, Mechanism, Plane, Problem, RoutingPath
from failover.checks.mechanisms.registry import register
from failover.model import FindingStatus, Kind, Resource
from failover.schema import format_duration

FAIL, UNKNOWN, WARN = FindingStatus.FAIL, FindingStatus.UNKNOWN, FindingStatus.WARN
CONTROL_PLANE = Plane("aws", "us-west-2", {"api": "Global Accelerator API (served only from us-west-2)"})
DATA_PLANE = Plane("aws", "global", {"network": "Global Accelerator anycast edge"})
TTL_NOTE = (
    "Global Accelerator: clients keep its static anycast IPs through a failover (the switch between endpoints "
    "is at its edge), so no DNS TTL delays it"
)
FAILS_OPEN = (
    "when no endpoint of a listener is healthy, Global Accelerator fails open: it sends traffic to every endpoint"
)
_LB_KINDS = ("alb", "nlb")


def _governor(ev: Evidence, e: GaEndpoint) -> Governor:
    """What takes a serving endpoint out: the group's health checks, or an ALB/NLB's own target health."""
    who = Who(subject=e.id, name=e.label, kind="global-accelerator")
    health = {True: "healthy", False: "unhealthy"}.get(e.origin.get("healthy"), "unknown")  # type: ignore[arg-type]
    if e.origin.get("kind") in _LB_KINDS:
        lb = find_load_balancer(ev, e.id)
        if lb is None:
            why = f"{e.label}: the load balancer is not in the inventory, so its target health checks are unknown"
            return Governor(**who, mode=Mode.UNKNOWN, reason=why, health=health)
        h = load_balancer_health(ev, lb)
        if h.detection_s is None:
            return Governor(**who, mode=Mode.UNKNOWN, reason=f"{e.label}: {h.unknown}", health=health)
        why = (
            f"Global Accelerator follows the health of {e.label}, load balancer {lb.name}: its target groups "
            f"detect in {format_duration(h.detection_s)}"
        )
        return Governor(
            **who, mode=Mode.AUTOMATIC, reason=why, detection_s=h.detection_s, health=health, evidence=h.evidence
        )
    g = e.group
    detect = g.get("detection_s")
    if detect is None:
        why = f"{e.label}: health check interval or threshold of endpoint group {e.region} unknown"
        return Governor(**who, mode=Mode.UNKNOWN, reason=why, health=health)
    monitor = g.get("monitor") or {}
    probe = f"{monitor.get('protocol') or '?'}:{monitor.get('port') or '?'}{monitor.get('path') or ''}"
    why = (
        f"endpoint group {e.region} health-checks {e.label} ({probe}) every {format_duration(g.get('interval_s'))}"
        f" and takes it out after {g.get('threshold')} failures: detects in {format_duration(detect)}"
    )
    facts = {"health_check": monitor, "interval_s": g.get("interval_s"), "threshold": g.get("threshold")}
    return Governor(**who, mode=Mode.AUTOMATIC, reason=why, detection_s=detect, health=health, evidence=facts)


def _reaches(e: GaEndpoint) -> tuple[bool | None, str]:
    """Would Global Accelerator send failover traffic to this endpoint of the secondary's, and why not."""
    if e.weight <= 0:
        return False, f"{e.label} has weight 0: Global Accelerator sends it no traffic"
    healthy = e.origin.get("healthy")
    if healthy is False:
        return False, f"{e.label} is UNHEALTHY now: Global Accelerator would not fail over to it"
    if healthy is None:
        state = e.origin.get("health_state") or "not reported"
        return None, f"{e.label}: health {state}, so whether it would take failover traffic is unknown"
    return True, ""


def _listener_label(listener: dict[str, Any]) -> str:
    return f"{listener.get('protocol') or '?'} {','.join(listener.get('ports') or []) or '?'}"


@register
class GlobalAccelerator(Mechanism):
    id = "global-accelerator"
    title = "AWS Global Accelerator (listeners, endpoint groups, endpoint weights and health checks)"
    provider = "aws"
    permissions = (
        "globalaccelerator:ListAccelerators",
        "globalaccelerator:ListListeners",
        "globalaccelerator:ListEndpointGroups",
        "globalaccelerator:ListTagsForResource",
        "ec2:DescribeAddresses",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    )
    doc = """The accelerator the public name resolves to (its static IPs or its DNS name, in the measured
    CNAME chain or a Route 53 record; else the one accelerator with an endpoint at a workload site) is
    enabled, and every listener has a healthy endpoint of the secondary site with a weight above 0 in one
    of its endpoint groups: Global Accelerator fails over to it when the nearer groups have no healthy
    endpoint, whatever its group's traffic dial (a dial-0 group still takes failover traffic). An endpoint
    is the secondary's when its instance id or load balancer ARN is a secondary resource or failover
    target, or its Elastic IP's address or instance is. Detection is the endpoint group's health-check
    interval x threshold for EC2 and Elastic IP endpoints, and the load balancer's own target-group
    health checks for ALB/NLB endpoints. Global Accelerator fails open (every endpoint) when none is
    healthy. A public name that resolves elsewhere fails; a disabled accelerator fails. Clients keep its
    static IPs through a failover, so the DNS TTL does not delay it."""

    def names_to_resolve(self, ev: Evidence) -> dict[str, list[str]]:
        return {}  # endpoints are ids and ARNs, matched in the inventory, not names to resolve

    def read(self, ev: Evidence) -> RoutingPath:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        accounts = ev.config.dns_accounts(ev.workload)
        gaps = [g for a in accounts for g in ev.account_gaps(a)]
        base = self.path_base(CONTROL_PLANE, DATA_PLANE, gaps)
        facts = accelerator_path(ev, accounts)
        acc = facts.accelerator
        if acc is None:
            status, why = self._not_found(ev, facts, gaps, accounts)
            none = Problem(status, f"no Global Accelerator serves {name}, so no automatic detection")
            searched = {"searched": accounts, "accelerators": [a.native_id for a in facts.candidates]}
            return RoutingPath(**base, problems=(Problem(status, why),), no_detection=(none,), evidence=searched)
        return self._judge(ev, facts, acc, base)

    @staticmethod
    def _not_found(
        ev: Evidence, facts: AcceleratorPath, gaps: list[str], accounts: list[str]
    ) -> tuple[FindingStatus, str]:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        where = ", ".join(accounts) or "any configured AWS account"
        if facts.identified_by:  # several accelerators, none told apart by the public name
            names = ", ".join(sorted(a.name for a in facts.candidates))
            return UNKNOWN, (
                f"several accelerators ({names}) have endpoints at the workload's sites and {name} was not seen "
                "resolving to one: point the public name at one (or set dns.account)"
            )
        why = f"no Global Accelerator that {name} resolves to, or with an endpoint at a workload site, in {where}"
        if facts.candidates:
            why += f" (accelerators: {', '.join(sorted(a.name for a in facts.candidates))})"
        if gaps:
            return UNKNOWN, why + "; inventory incomplete: " + join(gaps, 2)
        return FAIL, why

    def _judge(self, ev: Evidence, facts: AcceleratorPath, acc: Resource, base: dict[str, Any]) -> RoutingPath:
        assert ev.workload.dns is not None
        name = ev.workload.dns.name
        a = attrs_of(acc, Kind.ROUTING)
        sites = ", ".join(s.name for s in ev.workload.secondaries)
        problems: list[Problem] = []
        if a["enabled"] is False:
            problems.append(Problem(FAIL, f"accelerator {acc.name} is disabled: its static IPs take no traffic"))
        elif a["enabled"] is None:
            problems.append(Problem(UNKNOWN, f"accelerator {acc.name}: enabled state unknown"))
        unread = [n for n in a["notes"] or [] if not n.startswith("tags unknown")]  # tags judge nothing
        if unread:
            problems.append(Problem(UNKNOWN, f"accelerator {acc.name} incomplete: " + join(unread, 2)))
        if facts.chain and not own_names(acc) & facts.chain:
            problems.append(
                Problem(
                    FAIL,
                    f"{name} does not resolve to accelerator {acc.name} (its static IPs or DNS name); it resolves "
                    f"through {', '.join(sorted(facts.chain))}",
                )
            )
        listeners = list(a["listeners"] or [])
        if not listeners and not unread:
            problems.append(Problem(FAIL, f"accelerator {acc.name} has no listener: it accepts no traffic"))
        serving: list[Answer] = []
        answers: list[Answer] = []
        per_listener: list[dict[str, Any]] = []
        dial_zero: list[str] = []
        secondary_gaps = [g for s in ev.workload.secondaries for g in ev.gaps(s)]
        for lst in listeners:
            label = _listener_label(lst)
            eps = [e for e in facts.endpoints if e.listener == lst.get("arn")]
            groups = [t for t in a["targets"] or [] if t.get("listener") == lst.get("arn")]
            per_listener.append(self._listener_facts(lst, groups, eps))
            if not groups:
                problems.append(Problem(FAIL, f"listener {label} has no endpoint group: it sends traffic nowhere"))
                continue
            if not eps:
                problems.append(Problem(FAIL, f"listener {label} has no endpoints: it sends traffic nowhere"))
                continue
            taking = [e for e in eps if e.weight > 0 and e.dial > 0 and e.role != "secondary"]
            for e in taking:
                serving.append(Answer(e.id, e.label, frozenset(), governor=_governor(ev, e), weight=e.weight))
            if not taking and any(e.weight > 0 and e.dial > 0 for e in eps):
                problems.append(Problem(WARN, f"listener {label}: every endpoint taking traffic is the secondary's"))
            if all(e.origin.get("healthy") is False for e in eps):
                problems.append(Problem(WARN, f"listener {label}: every endpoint is unhealthy now, so {FAILS_OPEN}"))
            secondary = [e for e in eps if e.role == "secondary"]
            why_not: list[str] = []
            reaching = False
            unsure = False
            for e in secondary:
                reaches, why = _reaches(e)
                target = frozenset({str(e.origin.get("address"))} if e.origin.get("address") else set())
                answers.append(Answer(e.id, e.label, target, reaches=reaches, weight=e.weight))
                reaching = reaching or bool(reaches)
                unsure = unsure or reaches is None
                if why:
                    why_not.append(why)
                if reaches and e.dial == 0:
                    dial_zero.append(e.label)
            if reaching:
                continue
            if unsure:
                problems.append(Problem(UNKNOWN, f"listener {label}: " + join(why_not, 2)))
            elif secondary:
                problems.append(
                    Problem(
                        FAIL,
                        f"listener {label} has no healthy endpoint of secondary {sites} with a weight above 0: "
                        + join(why_not, 2),
                    )
                )
            else:
                unmatched = [e.label for e in eps if not e.site]
                why = f"no endpoint of listener {label} is at secondary {sites}"
                if unmatched:
                    why += f" (endpoints at no workload site: {join(unmatched, 2)})"
                status = UNKNOWN if unmatched and secondary_gaps else FAIL
                if status == UNKNOWN:
                    why += "; secondary inventory incomplete: " + join(secondary_gaps, 1)
                problems.append(Problem(status, why))
        for g in serving:
            assert g.governor is not None
            if g.governor.mode == Mode.UNKNOWN:
                problems.append(Problem(UNKNOWN, g.governor.reason))
        reaching_labels = sorted({x.name for x in answers if x.reaches})
        evidence: dict[str, Any] = {
            "accelerator": acc.native_id,
            "accelerator_status": acc.state,
            "enabled": a["enabled"],
            "dns_names": a["hostnames"],
            "static_ips": sorted(ip for s in a["ip_sets"] or [] for ip in s.get("addresses") or []),
            "identified_by": facts.identified_by,
            "listeners": per_listener,
            "serving": [x.name for x in serving],
            "reach_secondary": reaching_labels,
            "fails_open": FAILS_OPEN,
            "ttl": TTL_NOTE,
        }
        if dial_zero:
            evidence["dial_zero_secondary"] = dial_zero
        dial = (
            f" (traffic dial 0% for {', '.join(dial_zero)}: it takes traffic only on failover, which ignores dials)"
            if dial_zero
            else ""
        )
        summary = (
            f"accelerator {acc.name} fails {name} over to {', '.join(reaching_labels)} at secondary {sites} once its "
            f"health checks take the primary's endpoints out{dial}; clients keep its static IPs, so no DNS TTL "
            f"delays it; {FAILS_OPEN}"
        )
        none: tuple[Problem, ...] = ()
        if not serving:  # nothing of the primary's takes traffic: no health check to time
            if reaching_labels:
                why = f"no endpoint of the primary takes traffic through accelerator {acc.name}: the secondary serves"
                none = (Problem(WARN, why),)
            else:
                none = (Problem(FAIL, f"no endpoint takes traffic through accelerator {acc.name}, so no detection"),)
        return RoutingPath(
            **base,
            serving=tuple(serving),
            secondary=tuple(answers),
            problems=tuple(problems),
            no_detection=none,
            proxy=TTL_NOTE,
            summary=summary,
            subject=acc.name,
            evidence=evidence,
        )

    @staticmethod
    def _listener_facts(lst: dict[str, Any], groups: list[Any], eps: list[GaEndpoint]) -> dict[str, Any]:
        return {
            "listener": lst.get("arn"),
            "protocol": lst.get("protocol"),
            "ports": lst.get("ports"),
            "client_affinity": lst.get("client_affinity"),
            "groups": [
                {
                    "region": g.get("region"),
                    "traffic_dial": g.get("traffic_dial"),
                    "detection_s": g.get("detection_s"),
                    "endpoints": [
                        {
                            "id": e.id,
                            "kind": e.origin.get("kind"),
                            "site": e.site or None,
                            "weight": e.weight,
                            "health": e.origin.get("health_state"),
                        }
                        for e in eps
                        if e.group is g
                    ],
                }
                for g in groups
            ],
        }
