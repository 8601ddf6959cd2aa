from tests.e2e.conftest import world  # noqa: F401  (the sandbox over the live server)
