"""The project's terminal plugins (a package only so that mypy tells the two procurve.py apart)."""
