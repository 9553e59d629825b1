"""Which normalized kind each ARM resource type is, and what a VM size name means in vCPU and memory.

ARM types are case-insensitive (``Microsoft.Network/dnszones`` and ``Microsoft.Network/dnsZones`` are
the same), so every lookup lower-cases first. Pure data and functions: no SDK, no I/O.
"""

from __future__ import annotations

from failover.model import Kind

__all__ = ["DETAIL_API_VERSIONS", "DETAIL_LISTS", "kind_for", "vm_size"]

_KINDS: dict[str, Kind] = {
    "microsoft.compute/virtualmachines": Kind.COMPUTE_INSTANCE,
    "microsoft.compute/virtualmachinescalesets": Kind.COMPUTE_GROUP,
    "microsoft.network/loadbalancers": Kind.LB,
    "microsoft.network/applicationgateways": Kind.LB,
    "microsoft.network/frontdoors": Kind.LB,
    "microsoft.network/dnszones": Kind.DNS_ZONE,
    # Azure DNS record sets (read per zone, providers/azure/routingtier.py): types are .../dnszones/<TYPE>
    **{f"microsoft.network/dnszones/{t}": Kind.DNS_RECORD for t in ("a", "aaaa", "cname", "ns", "txt", "mx", "caa")},
    # a Front Door Standard/Premium route: the traffic-steering config for its domains (read per profile)
    "microsoft.cdn/profiles/afdendpoints/routes": Kind.ROUTING,
    # A Traffic Manager profile is DNS-level routing *governed by endpoint monitoring*: in the failover
    # path it plays the part of a Route 53 health check + failover records, which is what dns.health_check
    # checks look at (monitor interval x tolerated failures against the RTO).
    "microsoft.network/trafficmanagerprofiles": Kind.DNS_HEALTH_CHECK,
    "microsoft.sql/servers/databases": Kind.DB_INSTANCE,
    "microsoft.dbforpostgresql/servers": Kind.DB_INSTANCE,
    "microsoft.dbforpostgresql/flexibleservers": Kind.DB_INSTANCE,
    "microsoft.dbformysql/servers": Kind.DB_INSTANCE,
    "microsoft.dbformysql/flexibleservers": Kind.DB_INSTANCE,
    "microsoft.storage/storageaccounts": Kind.STORAGE_BUCKET,
    "microsoft.documentdb/databaseaccounts": Kind.DB_TABLE,
}

# Types whose list entry lacks what a check needs (VM size, scale set orchestration mode, autoscale
# limits, replica role and state, monitor config, a DNS zone's name servers): each such resource is
# read once more by id with its own provider's API version.
DETAIL_API_VERSIONS: dict[str, str] = {
    "microsoft.compute/virtualmachines": "2024-07-01",
    "microsoft.compute/virtualmachinescalesets": "2024-07-01",
    "microsoft.insights/autoscalesettings": "2022-10-01",
    "microsoft.dbforpostgresql/flexibleservers": "2024-08-01",
    "microsoft.dbformysql/flexibleservers": "2023-12-30",
    "microsoft.network/trafficmanagerprofiles": "2022-04-01",
    "microsoft.network/dnszones": "2018-05-01",  # nameServers: what dns.delegation compares
}

# The same types as their subscription-wide listing names them (``GET /subscriptions/{id}/providers/{type}``:
# VMs' and scale sets' List All, autoscale settings' and Traffic Manager profiles' List By Subscription,
# the flexible servers' and DNS zones' List): each answers the same model as the read by id, so one
# listing per subscription and type replaces a read per resource.
DETAIL_LISTS: dict[str, str] = {
    "microsoft.compute/virtualmachines": "Microsoft.Compute/virtualMachines",
    "microsoft.compute/virtualmachinescalesets": "Microsoft.Compute/virtualMachineScaleSets",
    "microsoft.insights/autoscalesettings": "Microsoft.Insights/autoscalesettings",
    "microsoft.dbforpostgresql/flexibleservers": "Microsoft.DBforPostgreSQL/flexibleServers",
    "microsoft.dbformysql/flexibleservers": "Microsoft.DBforMySQL/flexibleServers",
    "microsoft.network/trafficmanagerprofiles": "Microsoft.Network/trafficManagerProfiles",
    "microsoft.network/dnszones": "Microsoft.Network/dnszones",
}


def kind_for(native_type: str, sku_name: str | None = None) -> Kind:
    """The normalized kind of an ARM type; a CDN profile is a load balancer only when it is Front Door."""
    t = native_type.lower()
    if t == "microsoft.cdn/profiles":
        return Kind.LB if sku_name and "frontdoor" in sku_name.lower() else Kind.OTHER
    return _KINDS.get(t, Kind.OTHER)


def _family(template: str, vcpus: list[int], gib_per_vcpu: float, **exceptions: float) -> dict[str, tuple[int, float]]:
    """Sizes of one series where memory is a fixed multiple of vCPU, with the series' odd ones spelled out."""
    sizes = {}
    for n in vcpus:
        name = template.format(n=n)
        sizes[name.lower()] = (n, exceptions.get(f"m{n}", n * gib_per_vcpu))
    return sizes


# Common general-purpose, memory- and compute-optimized sizes (Microsoft's published vCPU / GiB).
# Anything not here has unknown capacity: a wrong guess would be worse than "unknown".
_SIZES: dict[str, tuple[int, float]] = {
    "standard_b1ls": (1, 0.5),
    "standard_b1s": (1, 1),
    "standard_b1ms": (1, 2),
    "standard_b2s": (2, 4),
    "standard_b2ms": (2, 8),
    "standard_b4ms": (4, 16),
    "standard_b8ms": (8, 32),
    "standard_b12ms": (12, 48),
    "standard_b16ms": (16, 64),
    "standard_b20ms": (20, 80),
    "standard_a1_v2": (1, 2),
    "standard_a2_v2": (2, 4),
    "standard_a4_v2": (4, 8),
    "standard_a8_v2": (8, 16),
    "standard_a2m_v2": (2, 16),
    "standard_a4m_v2": (4, 32),
    "standard_a8m_v2": (8, 64),
    "standard_d1_v2": (1, 3.5),
    "standard_d2_v2": (2, 7),
    "standard_d3_v2": (4, 14),
    "standard_d4_v2": (8, 28),
    "standard_d5_v2": (16, 56),
    "standard_ds1_v2": (1, 3.5),
    "standard_ds2_v2": (2, 7),
    "standard_ds3_v2": (4, 14),
    "standard_ds4_v2": (8, 28),
    "standard_ds5_v2": (16, 56),
}
_D = [2, 4, 8, 16, 32, 48, 64]
for _t in (
    "Standard_D{n}_v3",
    "Standard_D{n}s_v3",
    "Standard_D{n}_v4",
    "Standard_D{n}s_v4",
    "Standard_D{n}d_v4",
    "Standard_D{n}ds_v4",
    "Standard_D{n}as_v4",
    "Standard_D{n}a_v4",
):
    _SIZES |= _family(_t, _D, 4)
for _t in (
    "Standard_D{n}_v5",
    "Standard_D{n}s_v5",
    "Standard_D{n}d_v5",
    "Standard_D{n}ds_v5",
    "Standard_D{n}as_v5",
    "Standard_D{n}ads_v5",
):
    _SIZES |= _family(_t, [*_D, 96], 4)
for _t in ("Standard_E{n}_v3", "Standard_E{n}s_v3"):
    _SIZES |= _family(_t, [2, 4, 8, 16, 20, 32, 48, 64], 8, m64=432)
for _t in ("Standard_E{n}_v4", "Standard_E{n}s_v4", "Standard_E{n}ds_v4", "Standard_E{n}as_v4"):
    _SIZES |= _family(_t, [2, 4, 8, 16, 20, 32, 48, 64], 8, m64=504)
for _t in ("Standard_E{n}_v5", "Standard_E{n}s_v5", "Standard_E{n}ds_v5", "Standard_E{n}as_v5"):
    _SIZES |= _family(_t, [2, 4, 8, 16, 20, 32, 48, 64, 96], 8, m64=512, m96=672)
_SIZES |= _family("Standard_F{n}s_v2", [2, 4, 8, 16, 32, 48, 64, 72], 2)


def vm_size(name: str | None) -> tuple[int, int] | None:
    """(vCPU, memory MiB) of a VM size like ``Standard_D2s_v3``; ``None`` when the size is not in the table."""
    if not name:
        return None
    found = _SIZES.get(name.strip().lower())
    if found is None:
        return None
    vcpu, gib = found
    return vcpu, int(gib * 1024)
