"""The status page: the workloads' readiness as server-rendered HTML (no JavaScript), served by the
daemon at ``/`` and ``/workloads/<name>`` and written as files by ``failover report --html DIR``.

``model`` is the pages' data, ``sparkline`` the trend SVG, ``render`` the Jinja2 templates (package
data in ``templates/``), ``source`` the store reads and the two entry points (``LivePages``,
``write_site``)."""

from failover.statuspage.source import LivePages, WhatIfSource, stored_whatif, write_site

__all__ = ["LivePages", "WhatIfSource", "stored_whatif", "write_site"]
