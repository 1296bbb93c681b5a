"""Identity tests use the shared account fixtures of `tests.accounts`."""

from tests.accounts import PASSWORD, Account, SignUp

__all__ = ["PASSWORD", "Account", "SignUp"]
