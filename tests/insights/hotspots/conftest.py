"""The API tests' two-district city (tests/api/conftest.py), for the insights' endpoints."""

from tests.api.conftest import city, client, signed_in

__all__ = ["city", "client", "signed_in"]
