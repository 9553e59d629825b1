"""Every way traffic fails over, one module per ``dns.mechanism`` value, read into one shape
(``RoutingPath``). The interface, and how to add a mechanism, is documented in ``base``."""

from failover.checks.mechanisms import (  # noqa: F401  (each module registers its mechanism)
    cloud_dns,
    cloudflare_lb,
    front_door,
    global_accelerator,
    route53_failover,
    route53_policies,
    traffic_manager,
)
from failover.checks.mechanisms.base import Answer, Mechanism, Plane, Problem, RoutingPath
from failover.checks.mechanisms.registry import MECHANISMS, mechanism_of, register, routing_path

__all__ = [
    "MECHANISMS",
    "Answer",
    "Mechanism",
    "Plane",
    "Problem",
    "RoutingPath",
    "mechanism_of",
    "register",
    "routing_path",
]
