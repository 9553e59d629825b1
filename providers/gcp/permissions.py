"""Which IAM permission each request the adapter sends needs; docs/permissions/gcp-custom-role.yaml lists them.

The table is what the read-only test checks every recorded request against, so a new call without a
permission here (or in the role) fails the suite.
"""

from __future__ import annotations

import re

_P = r"/compute/v1/projects/[^/]+"
REQUEST_PERMISSIONS: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(_P + r"/aggregated/instances$"), "compute.instances.list"),
    ("GET", re.compile(_P + r"/aggregated/disks$"), "compute.disks.list"),
    ("GET", re.compile(_P + r"/zones/[^/]+/machineTypes/[^/]+$"), "compute.machineTypes.get"),
    ("GET", re.compile(_P + r"/regions$"), "compute.regions.list"),
    ("GET", re.compile(_P + r"$"), "compute.projects.get"),  # project-wide quotas (CPUS_ALL_REGIONS)
    ("GET", re.compile(_P + r"/aggregated/instanceGroupManagers$"), "compute.instanceGroupManagers.list"),
    # listManagedInstances is a POST that only reads; zonal and regional groups both need the list
    # permission (gcloud compute instance-groups managed list-instances documents it).
    (
        "POST",
        re.compile(_P + r"/(zones|regions)/[^/]+/instanceGroupManagers/[^/]+/listManagedInstances$"),
        "compute.instanceGroupManagers.list",
    ),
    ("GET", re.compile(_P + r"/aggregated/autoscalers$"), "compute.autoscalers.list"),
    ("GET", re.compile(_P + r"/aggregated/instanceTemplates$"), "compute.instanceTemplates.list"),
    ("GET", re.compile(_P + r"/aggregated/forwardingRules$"), "compute.forwardingRules.list"),
    ("GET", re.compile(_P + r"/aggregated/backendServices$"), "compute.backendServices.list"),
    # getHealth is a POST that only reads; it needs the service's get permission.
    ("POST", re.compile(_P + r"/global/backendServices/[^/]+/getHealth$"), "compute.backendServices.get"),
    ("POST", re.compile(_P + r"/regions/[^/]+/backendServices/[^/]+/getHealth$"), "compute.regionBackendServices.get"),
]


# The data tier: Cloud SQL Admin, Cloud Storage (JSON API) and Cloud Monitoring, each list-only.
REQUEST_PERMISSIONS += [
    ("GET", re.compile(r"^/v1/projects/[^/]+/instances$"), "cloudsql.instances.list"),
    ("GET", re.compile(r"^/storage/v1/b$"), "storage.buckets.list"),
    ("GET", re.compile(r"^/v3/projects/[^/]+/timeSeries$"), "monitoring.timeSeries.list"),
]


# Cloud DNS (zones, record sets with routing policies) and the Compute health checks its routing
# policies probe external endpoints with.
REQUEST_PERMISSIONS += [
    ("GET", re.compile(r"^/dns/v1/projects/[^/]+/managedZones$"), "dns.managedZones.list"),
    ("GET", re.compile(r"^/dns/v1/projects/[^/]+/managedZones/[^/]+/rrsets$"), "dns.resourceRecordSets.list"),
    ("GET", re.compile(_P + r"/global/healthChecks/[^/]+$"), "compute.healthChecks.get"),
    # an internal load balancer target's backend health check, when regional
    ("GET", re.compile(_P + r"/regions/[^/]+/healthChecks/[^/]+$"), "compute.regionHealthChecks.get"),
]


def permission_for(method: str, path: str) -> str | None:
    """The permission a request needs, or ``None`` if the adapter was never meant to send it."""
    for verb, pattern, permission in REQUEST_PERMISSIONS:
        if verb == method and pattern.search(path):
            return permission
    return None


def required_permissions() -> list[str]:
    return sorted({p for _v, _r, p in REQUEST_PERMISSIONS})
