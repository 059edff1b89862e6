"""Onboarding and offboarding: guided, validated edits of the convention register.

Every command edits the register's YAML files in place with a round-trip parser (comments, key order
and quoting are kept), validates the result with the register's own loader (`load_register`), shows
the change as a unified diff, and writes all the edited files or none.
"""

from schoolfleet.onboarding.changeset import Changeset, OnboardingError

__all__ = ["Changeset", "OnboardingError"]
