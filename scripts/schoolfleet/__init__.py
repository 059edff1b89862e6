"""Tooling for the shared school IT service: the convention register, billing, onboarding, the lab."""
