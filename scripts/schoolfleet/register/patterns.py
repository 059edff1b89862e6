"""The shapes of identifiers in the register, shared by the loader and the scripts that write it."""

from __future__ import annotations

import re

INSEE = re.compile(r"(?:[0-9]{5}|2[AB][0-9]{3})\Z")
SIVOS_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
ASSET_TAG = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*\Z")
HOSTNAME = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
PACK_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
# Debian Policy 5.6.1: lowercase letters, digits, + - . ; two characters at least, alphanumeric first.
DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+\Z")
SETTING_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
