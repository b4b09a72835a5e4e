"""The trivy stand-in's advisory table: a few Alpine package advisories, in
the place of trivy-db. services.BASE_PACKAGES and FINDING_PACKAGES name
packages this table matches:

- busybox < 1.36.1-r30: MEDIUM, fixed      (every test image: below the gate)
- zlib (any):            LOW, no fix        (every test image)
- libcrypto3 < 3.3.2-r0: CRITICAL, fixed    (injected: "a fixable CRITICAL")
- libxml2 (any):         HIGH, no fix       (injected: dropped by --ignore-unfixed)

The identifiers are real CVE numbers of those packages, but severity, fix
versions and texts are the test's own: this is not vulnerability data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Advisory:
    vuln_id: str
    package: str
    severity: str
    fixed: str | None  # None: no fix (Status "affected")
    title: str
    description: str


ADVISORIES = [
    Advisory("CVE-2023-42366", "busybox", "MEDIUM", "1.36.1-r30", "busybox: a heap-buffer-overflow in awk",
             "e2e advisory: a MEDIUM with a fix, present in every test image."),
    Advisory("CVE-2023-45853", "zlib", "LOW", None, "zlib: integer overflow in minizip zipOpenNewFileInZip4_64",
             "e2e advisory: a LOW without a fix, present in every test image."),
    Advisory("CVE-2024-5535", "libcrypto3", "CRITICAL", "3.3.2-r0", "openssl: SSL_select_next_proto buffer overread",
             "e2e advisory: the injected fixable CRITICAL."),
    Advisory("CVE-2024-56171", "libxml2", "HIGH", None, "libxml2: use-after-free in xmlSchemaIDCFillNodeTables",
             "e2e advisory: the injected HIGH without a fix."),
]

SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


def version_key(version: str) -> tuple:
    """apk version order, enough for this table: numbers compare as numbers,
    the -rN release last."""
    main, _, release = version.partition("-r")
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.findall(r"\d+|[a-z]+", main))
    return parts + ((0, int(release) if release.isdigit() else 0),)


def affecting(package: str, version: str) -> list[Advisory]:
    return [a for a in ADVISORIES
            if a.package == package and (a.fixed is None or version_key(version) < version_key(a.fixed))]
