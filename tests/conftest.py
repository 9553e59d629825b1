"""Each area's fixtures live in tests/fixtures/<area>.py so areas can grow without touching this file."""

pytest_plugins = [
    "tests.fixtures.store",
    "tests.fixtures.aws",
    "tests.fixtures.gcp",
    "tests.fixtures.azure",
    "tests.fixtures.cloudflare",
    "tests.fixtures.http",
    "tests.fixtures.dns",
    "tests.fixtures.smtp",
    "tests.fixtures.daemon",
    "tests.fixtures.hostile",
    "tests.fixtures.webhook",
    "tests.fixtures.browser",
]
