"""The demo city, built once per test run (it is deterministic, so sharing it is safe)."""

from __future__ import annotations

import pytest

from safecity.demo.city import DemoCity, build_demo_city


@pytest.fixture(scope="session")
def demo_city() -> DemoCity:
    return build_demo_city()
