"""The trivy stand-in: `trivy image --input`, `trivy convert`, `trivy config`,
`trivy --version`.

Faithful parts (sources read):
- flags: exactly the options of docs/docs/references/configuration/cli/
  trivy_image.md (aquasecurity/trivy@8538583d), trivy_convert.md
  (@85b2827e, plus --scanners of v0.60+) and trivy_config.md, with the global
  flags; --vuln-type stays a deprecated alias of --pkg-types
  (pkg/flag/package_flags.go). An unknown flag fails as cobra does
  (`Error: unknown flag: --x`, exit 1). Every flag can also come from its
  TRIVY_* environment variable (viper binding).
- --input: a docker archive (manifest.json) or an OCI layout DIRECTORY; an
  OCI tar is refused ("stat X/index.json: not a directory", as Trivy
  <= 0.6x; newer sources (pkg/fanal/image/oci.go@5643eec) unpack a `.tar`,
  see the report). In a layout, pkg/fanal/image/oci.go getOCIImage takes
  the FIRST index.json descriptor (or the one whose ref.name / digest
  follows `DIR:TAG` / `DIR@DIGEST`); an image index: its FIRST manifest,
  recursively — no platform choice, so one platform of a multi-platform
  layout is scanned.
- --skip-db-update on a cache without a DB fails ("--skip-db-update cannot
  be specified on the first run"); a run without it "downloads" the DB
  (a marker in --cache-dir, default $HOME/.cache/trivy).
- the report: SchemaVersion 2, ArtifactName/Type, Metadata{OS, ImageID =
  config digest, DiffIDs, RepoTags, RepoDigests, ImageConfig}, Results as
  in the goldens (os-pkgs "alpine" vulnerabilities; secret results);
  --severity filters, --ignore-unfixed drops Status != fixed, --exit-code
  exits with the code when any finding is left (Results.Failed()).
- convert: --format/--severity/--exit-code on a JSON report, no
  --ignore-unfixed (pkg/commands/convert/run.go).
Simplified: the advisory table (standins/advisories.py) replaces trivy-db;
only Alpine's apk DB is read; secrets: the AWS access key rule only;
config: DS002 (no USER) and DS026 (no HEALTHCHECK) on Dockerfiles.
"""

from __future__ import annotations

import datetime
import gzip
import io
import json
import os
import re
import sys
import tarfile
import uuid
from pathlib import Path

from . import action
from .advisories import SEVERITIES, affecting
from .oci import INDEX_TYPES, Layout, OciError, digest_of

DEFAULT_VERSION = "0.70.0"

# name[,shorthand]:kind — kinds: b bool, s string, l strings, i int, f float, d duration
GLOBAL = "cache-dir:s config,c:s debug,d:b generate-default-config:b insecure:b quiet,q:b timeout:d version,v:b help,h:b"
IMAGE = (
    "cache-backend:s cache-ttl:d check-namespaces:l checks-bundle-repository:s compliance:s config-check:l "
    "config-data:l config-file-schemas:l custom-headers:l db-repository:l dependency-tree:b detection-priority:s "
    "distro:s docker-host:s download-db-only:b download-java-db-only:b enable-modules:l exit-code:i exit-on-eol:i "
    "file-patterns:l format,f:s helm-api-versions:l helm-kube-version:s helm-set:l helm-set-file:l helm-set-string:l "
    "helm-values:l ignore-policy:s ignore-status:l ignore-unfixed:b ignored-licenses:l ignorefile:s "
    "image-config-scanners:l image-src:l include-deprecated-checks:b include-non-failures:b input:s "
    "java-db-repository:l license-confidence-level:f license-full:b list-all-pkgs:b misconfig-scanners:l "
    "module-dir:s no-progress:b offline-scan:b output,o:s output-plugin-arg:s parallel:i password:l "
    "password-stdin:b pkg-relationships:l pkg-types:l vuln-type:l platform:s podman-host:s redis-ca:s redis-cert:s "
    "redis-key:s redis-tls:b registry-token:s rekor-url:s removed-pkgs:b report:s sbom-sources:l scanners:l "
    "secret-config:s server:s severity,s:l show-suppressed:b skip-check-update:b skip-db-update:b skip-dirs:l "
    "skip-files:l skip-java-db-update:b skip-vex-repo-update:b template,t:s tf-exclude-downloaded-modules:b token:s "
    "token-header:s trace:b username:l vex:l"
)
CONVERT = (
    "compliance:s dependency-tree:b exit-code:i exit-on-eol:i format,f:s ignore-policy:s ignorefile:s "
    "list-all-pkgs:b output,o:s report:s scanners:l severity,s:l template,t:s"
)
CONFIG = (
    "cache-backend:s cache-ttl:d cf-params:l check-namespaces:l checks-bundle-repository:s compliance:s "
    "config-check:l config-data:l config-file-schemas:l enable-modules:l exit-code:i file-patterns:l format,f:s "
    "helm-api-versions:l helm-kube-version:s helm-set:l helm-set-file:l helm-set-string:l helm-values:l "
    "ignore-policy:s ignorefile:s include-deprecated-checks:b include-non-failures:b k8s-version:s "
    "misconfig-scanners:l module-dir:s output,o:s output-plugin-arg:s password:l password-stdin:b redis-ca:s "
    "redis-cert:s redis-key:s redis-tls:b registry-token:s report:s severity,s:l skip-check-update:b skip-dirs:l "
    "skip-files:l template,t:s tf-exclude-downloaded-modules:b tf-vars:l trace:b username:l"
)
SUBCOMMANDS = {"image": IMAGE, "i": IMAGE, "convert": CONVERT, "config": CONFIG, "conf": CONFIG}
FORMATS = ("table", "json", "template", "sarif", "cyclonedx", "spdx", "spdx-json", "github", "cosign-vuln")


class TrivyExit(Exception):
    def __init__(self, code: int, message: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message


def fatal(message: str) -> TrivyExit:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return TrivyExit(1, f"{now}\tFATAL\tFatal error\t{message}")


def _table(spec: str) -> tuple[dict[str, str], dict[str, str]]:
    kinds, shorts = {}, {}
    for item in spec.split():
        names, _, kind = item.partition(":")
        name, _, short = names.partition(",")
        kinds[name] = kind
        if short:
            shorts[short] = name
    return kinds, shorts


def parse(argv: list[str]) -> tuple[str | None, dict, list[str]]:
    """pflag-style parsing: (subcommand, flags, positional args)."""
    sub = next((a for a in argv if not a.startswith("-")), None) if argv else None
    # the subcommand is the first word that is not a flag's value; good
    # enough for `trivy SUB [flags] ARG` and `trivy [global] SUB ...`
    kinds, shorts = _table(GLOBAL)
    if sub in SUBCOMMANDS:
        k2, s2 = _table(SUBCOMMANDS[sub])
        kinds.update(k2)
        shorts.update(s2)
    elif sub is not None and sub not in ("version",):
        raise TrivyExit(1, f'Error: unknown command "{sub}" for "trivy"\nRun \'trivy --help\' for usage.')
    flags: dict = {}
    positional: list[str] = []
    i = 0
    seen_sub = False
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            positional += argv[i:]
            break
        if not arg.startswith("-") or arg == "-":
            if not seen_sub and arg == sub:
                seen_sub = True
            else:
                positional.append(arg)
            continue
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if name not in kinds:
                raise TrivyExit(1, f"Error: unknown flag: --{name}")
        else:
            short, value = arg[1:2], arg[2:]
            eq = "=" if value else ""
            value = value.removeprefix("=")
            if short not in shorts:
                raise TrivyExit(1, f"Error: unknown shorthand flag: '{short}' in {arg}")
            name = shorts[short]
        kind = kinds[name]
        if kind == "b":
            flags[name] = value.lower() in ("", "true", "1") if eq else True
            continue
        if not eq:
            if i >= len(argv):
                raise TrivyExit(1, f"Error: flag needs an argument: --{name}")
            value = argv[i]
            i += 1
        if kind == "l":
            flags.setdefault(name, []).extend(v for v in value.split(",") if v)
        elif kind == "i":
            try:
                flags[name] = int(value)
            except ValueError:
                raise TrivyExit(1, f'Error: invalid argument "{value}" for "--{name}" flag: strconv.ParseInt: parsing "{value}": invalid syntax') from None
        else:
            flags[name] = value
    for name, kind in kinds.items():  # TRIVY_* environment variables (viper)
        env = os.environ.get("TRIVY_" + name.upper().replace("-", "_"))
        if name not in flags and env:
            flags[name] = (env.lower() in ("true", "1") if kind == "b" else
                           [v for v in env.split(",") if v] if kind == "l" else int(env) if kind == "i" else env)
    if "vuln-type" in flags:
        flags.setdefault("pkg-types", flags.pop("vuln-type"))
    return (sub if sub in SUBCOMMANDS or sub == "version" else None), flags, positional


def version() -> str:
    return os.environ.get("E2E_TRIVY_VERSION", DEFAULT_VERSION)


# --- reading an image ------------------------------------------------------


class Image:
    """An image read from --input: its config, layers (tar bytes), and the
    manifest digest (OCI layouts only)."""

    def __init__(self, config: bytes, layers: list[tuple[str, bytes]], manifest_digest: str | None, repo_tags: list[str]):
        self.config_bytes = config
        self.config = json.loads(config)
        self.layers = layers  # (layer digest, compressed or plain tar bytes)
        self.manifest_digest = manifest_digest
        self.repo_tags = repo_tags

    @property
    def config_digest(self) -> str:
        return digest_of(self.config_bytes)

    def files(self):
        """(path, bytes, layer digest, diff id) of every regular file."""
        diff_ids = self.config.get("rootfs", {}).get("diff_ids") or []
        for n, (layer_digest, data) in enumerate(self.layers):
            raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                for member in tar:
                    if member.isfile():
                        f = tar.extractfile(member)
                        yield member.name.lstrip("./"), f.read() if f else b"", layer_digest, diff_ids[n] if n < len(diff_ids) else ""


def _docker_archive(path: Path) -> Image:
    with tarfile.open(path) as tar:
        names = tar.getnames()
        if "manifest.json" not in names:
            raise OciError("file manifest.json not found in tar")
        manifest = json.load(tar.extractfile("manifest.json"))[0]
        config = tar.extractfile(manifest["Config"]).read()
        layers = []
        for layer in manifest["Layers"]:
            data = tar.extractfile(layer).read()
            layers.append((digest_of(data), data))
        return Image(config, layers, None, manifest.get("RepoTags") or [])


def _oci_image(layout: Layout, manifests: list[dict], ref: str) -> tuple[dict, bytes]:
    """pkg/fanal/image/oci.go getOCIImage."""
    for desc in manifests:
        tag = (desc.get("annotations") or {}).get("org.opencontainers.image.ref.name")
        if ref == "" or tag == ref or desc["digest"] == ref:
            if desc["mediaType"] in INDEX_TYPES:
                return _oci_image(layout, layout.json_blob(desc["digest"])["manifests"], "")
            return desc, layout.blob(desc["digest"])
    raise OciError("invalid OCI image ref")


def _oci_layout(path: str) -> Image:
    name, sep, ref = path.partition("@")
    if not sep:
        name, sep, ref = path.partition(":")
    root = Path(name)
    if not (root / "index.json").exists():
        kind = "not a directory" if root.is_file() else "no such file or directory"
        raise OciError(f"unable to open {path} as an OCI Image: stat {root}/index.json: {kind}")
    layout = Layout(root)
    manifests = layout.index().get("manifests") or []
    if not manifests:
        raise OciError("no valid manifest")
    desc, data = _oci_image(layout, manifests, ref)
    manifest = json.loads(data)
    layers = [(l["digest"], layout.blob(l["digest"])) for l in manifest["layers"]]
    return Image(layout.blob(manifest["config"]["digest"]), layers, desc["digest"], [])


def open_input(path: str) -> Image:
    errors = []
    if Path(path).is_file():
        try:
            return _docker_archive(Path(path))
        except (OciError, tarfile.TarError, KeyError, ValueError) as err:
            errors.append(f"unable to open {path} as a Docker image: {err}")
    try:
        return _oci_layout(path)
    except OciError as err:
        errors.append(str(err))
    detail = "".join(f"\n\t* {e}" for e in errors)
    raise fatal(f"run error: image scan error: scan error: unable to initialize a scanner: unable to initialize an image scanner: "
                f"{len(errors)} errors occurred:{detail}")


# --- findings ----------------------------------------------------------------

AWS_KEY = re.compile(rb"(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}")


def _os_release(files: dict) -> dict:
    out = {}
    for line in files.get("etc/os-release", (b"",))[0].decode(errors="replace").splitlines():
        k, _, v = line.partition("=")
        out[k] = v.strip('"')
    return out


def _apk_packages(data: bytes) -> list[dict]:
    pkgs, cur = [], {}
    for line in data.decode(errors="replace").splitlines() + [""]:
        if not line:
            if "P" in cur:
                pkgs.append(cur)
            cur = {}
            continue
        k, _, v = line.partition(":")
        cur[k] = v
    return pkgs


def scan_image(img: Image, name: str, scanners: list[str], list_all: bool) -> dict:
    files = {p: (d, ld, di) for p, d, ld, di in img.files()}
    osr = _os_release(files)
    report: dict = {"SchemaVersion": 2, "CreatedAt": now(), "ArtifactName": name, "ArtifactType": "container_image",
                    "Metadata": {}, "Results": []}
    meta = report["Metadata"]
    if osr.get("ID"):
        meta["OS"] = {"Family": osr["ID"], "Name": osr.get("VERSION_ID", "")}
    meta["ImageID"] = img.config_digest
    meta["DiffIDs"] = img.config.get("rootfs", {}).get("diff_ids") or []
    if img.repo_tags:
        meta["RepoTags"] = img.repo_tags
    meta["ImageConfig"] = img.config
    if "vuln" in scanners and osr.get("ID") == "alpine" and "lib/apk/db/installed" in files:
        data, layer_digest, diff_id = files["lib/apk/db/installed"]
        distro = osr.get("VERSION_ID", "")
        result = {"Target": f"{name} (alpine {distro})", "Class": "os-pkgs", "Type": "alpine"}
        vulns, packages = [], []
        for p in _apk_packages(data):
            pkg_id = f"{p['P']}@{p['V']}"
            purl = f"pkg:apk/alpine/{p['P']}@{p['V']}?arch={p.get('A', 'x86_64')}&distro={distro}"
            layer = {"Digest": layer_digest, "DiffID": diff_id}
            packages.append({"ID": pkg_id, "Name": p["P"], "Identifier": {"PURL": purl}, "Version": p["V"], "Arch": p.get("A", ""), "Layer": layer})
            for adv in affecting(p["P"], p["V"]):
                v = {"VulnerabilityID": adv.vuln_id, "PkgID": pkg_id, "PkgName": p["P"], "PkgIdentifier": {"PURL": purl},
                     "InstalledVersion": p["V"]}
                if adv.fixed:
                    v["FixedVersion"] = adv.fixed
                v.update({"Status": "fixed" if adv.fixed else "affected", "Layer": layer, "SeveritySource": "nvd",
                          "PrimaryURL": f"https://avd.aquasec.com/nvd/{adv.vuln_id.lower()}",
                          "DataSource": {"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"},
                          "Title": adv.title, "Description": adv.description, "Severity": adv.severity})
                vulns.append(v)
        if list_all:
            result["Packages"] = packages
        if vulns:
            result["Vulnerabilities"] = vulns
        report["Results"].append(result)
    if "secret" in scanners:
        for path, (data, layer_digest, diff_id) in sorted(files.items()):
            found = []
            for m in AWS_KEY.finditer(data):
                line_no = data[: m.start()].count(b"\n") + 1
                line = data.splitlines()[line_no - 1].decode(errors="replace")
                masked = line.replace(m.group().decode(), "*" * len(m.group()))
                found.append({"RuleID": "aws-access-key-id", "Category": "AWS", "Severity": "CRITICAL",
                              "Title": "AWS Access Key ID", "StartLine": line_no, "EndLine": line_no,
                              "Code": {"Lines": [{"Number": line_no, "Content": masked, "IsCause": True, "Annotation": "",
                                                  "Truncated": False, "Highlighted": masked, "FirstCause": True, "LastCause": True}]},
                              "Match": masked, "Layer": {"Digest": layer_digest, "DiffID": diff_id}, "Offset": m.start()})
            if found:
                report["Results"].append({"Target": "/" + path, "Class": "secret", "Secrets": found})
    return report


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def filter_report(report: dict, severities: list[str], ignore_unfixed: bool) -> dict:
    sev = set(severities)
    for r in report.get("Results") or []:
        if "Vulnerabilities" in r:
            r["Vulnerabilities"] = [v for v in r["Vulnerabilities"] if v.get("Severity") in sev
                                    and not (ignore_unfixed and v.get("Status") != "fixed")]
            if not r["Vulnerabilities"]:
                del r["Vulnerabilities"]
        if "Secrets" in r:
            r["Secrets"] = [s for s in r["Secrets"] if s.get("Severity") in sev]
            if not r["Secrets"]:
                del r["Secrets"]
        if "Misconfigurations" in r:
            r["Misconfigurations"] = [m for m in r["Misconfigurations"] if m.get("Severity") in sev]
            fails = sum(1 for m in r["Misconfigurations"] if m.get("Status") == "FAIL")
            r["MisconfSummary"] = {"Successes": r.get("MisconfSummary", {}).get("Successes", 0), "Failures": fails}
            if not r["Misconfigurations"]:
                del r["Misconfigurations"]
    report["Results"] = [r for r in report.get("Results") or [] if r.get("Class") != "secret" or r.get("Secrets")]
    return report


def failed(report: dict) -> bool:
    """pkg/types Results.Failed: any vulnerability, FAIL misconfiguration or secret."""
    for r in report.get("Results") or []:
        if r.get("Vulnerabilities") or r.get("Secrets"):
            return True
        if any(m.get("Status") == "FAIL" for m in r.get("Misconfigurations") or []):
            return True
    return False


# --- output formats ----------------------------------------------------------


def to_sarif(report: dict) -> dict:
    rules, results, index = [], [], {}
    uri = report.get("ArtifactName", "")
    for r in report.get("Results") or []:
        items = [(v["VulnerabilityID"], v["Severity"], "vulnerability",
                  f"Package: {v['PkgName']}\nInstalled Version: {v['InstalledVersion']}\nVulnerability {v['VulnerabilityID']}\n"
                  f"Severity: {v['Severity']}\nFixed Version: {v.get('FixedVersion', '')}\nLink: [{v['VulnerabilityID']}]({v.get('PrimaryURL', '')})",
                  v.get("Title", ""), uri, 1) for v in r.get("Vulnerabilities") or []]
        items += [(s["RuleID"], s["Severity"], "secret", f"Artifact: {r['Target']}\nType: \nSecret {s['Title']}\nSeverity: {s['Severity']}\nMatch: {s['Match']}",
                   s["Title"], r["Target"].lstrip("/"), s["StartLine"]) for s in r.get("Secrets") or []]
        items += [(m["ID"], m["Severity"], "misconfiguration", f"Artifact: {r['Target']}\nType: dockerfile\nVulnerability {m['ID']}\nSeverity: {m['Severity']}\nMessage: {m['Message']}",
                   m["Title"], r["Target"], 1) for m in r.get("Misconfigurations") or [] if m.get("Status") == "FAIL"]
        for rule_id, severity, kind, text, title, loc, line in items:
            if rule_id not in index:
                index[rule_id] = len(rules)
                level = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning"}.get(severity, "note")
                rules.append({"id": rule_id, "name": {"vulnerability": "OsPackageVulnerability", "secret": "Secret",
                                                      "misconfiguration": "Misconfiguration"}[kind],
                              "shortDescription": {"text": title or rule_id}, "fullDescription": {"text": title or rule_id},
                              "defaultConfiguration": {"level": level}, "help": {"text": text, "markdown": text},
                              "properties": {"precision": "very-high", "security-severity": {"CRITICAL": "9.8", "HIGH": "7.5", "MEDIUM": "5.5"}.get(severity, "2.0"),
                                             "tags": [kind, "security", severity]}})
            results.append({"ruleId": rule_id, "ruleIndex": index[rule_id], "level": rules[index[rule_id]]["defaultConfiguration"]["level"],
                            "message": {"text": text},
                            "locations": [{"physicalLocation": {"artifactLocation": {"uri": loc, "uriBaseId": "ROOTPATH"},
                                                                "region": {"startLine": line, "startColumn": 1, "endLine": line, "endColumn": 1}},
                                           "message": {"text": f"{loc}: {rule_id}"}}]})
    return {"version": "2.1.0", "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json",
            "runs": [{"tool": {"driver": {"fullName": "Trivy Vulnerability Scanner", "informationUri": "https://github.com/aquasecurity/trivy",
                                          "name": "Trivy", "rules": rules, "version": version()}},
                      "results": results, "columnKind": "utf16CodeUnits",
                      "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}}}]}


def to_cosign_vuln(report: dict) -> dict:
    """The cosign vuln predicate (sigstore/cosign pkg/cosign/attestation
    CosignVulnPredicate) Trivy writes with --format cosign-vuln."""
    t = now()
    return {"invocation": {"parameters": None, "uri": "", "event_id": "", "builder.id": ""},
            "scanner": {"uri": f"pkg:github/aquasecurity/trivy@{version()}", "version": version(),
                        "db": {"uri": "", "version": ""}, "result": report},
            "metadata": {"scanStartedOn": t, "scanFinishedOn": t}}


def to_cyclonedx(report: dict) -> dict:
    comps = [{"bom-ref": p["Identifier"]["PURL"], "type": "library", "name": p["Name"], "version": p["Version"], "purl": p["Identifier"]["PURL"]}
             for r in report.get("Results") or [] for p in r.get("Packages") or []]
    return {"$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json", "bomFormat": "CycloneDX", "specVersion": "1.6",
            "serialNumber": f"urn:uuid:{uuid.uuid4()}", "version": 1,
            "metadata": {"timestamp": now(), "tools": {"components": [{"type": "application", "group": "aquasecurity", "name": "trivy", "version": version()}]},
                         "component": {"bom-ref": "root", "type": "container", "name": report.get("ArtifactName", "")}},
            "components": comps}


def to_table(report: dict) -> str:
    lines = []
    for r in report.get("Results") or []:
        findings = [(v["PkgName"], v["VulnerabilityID"], v["Severity"], v["Status"], v["InstalledVersion"], v.get("FixedVersion", ""))
                    for v in r.get("Vulnerabilities") or []]
        findings += [("secret", s["RuleID"], s["Severity"], "", "", "") for s in r.get("Secrets") or []]
        findings += [("dockerfile", m["ID"], m["Severity"], m["Status"], "", "") for m in r.get("Misconfigurations") or []]
        counts = {s: sum(1 for f in findings if f[2] == s) for s in reversed(SEVERITIES)}
        lines.append(f"\n{r['Target']}\n" + "=" * len(r["Target"]))
        lines.append(f"Total: {len(findings)} (" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")\n")
        for f in findings:
            lines.append(" │ ".join(f))
    return "\n".join(lines) + "\n"


def write(report: dict, fmt: str, output: str | None) -> None:
    if fmt not in FORMATS:
        raise fatal(f'unknown format "{fmt}"')
    if fmt == "json":
        text = json.dumps(report, indent=2) + "\n"
    elif fmt == "sarif":
        text = json.dumps(to_sarif(report), indent=2) + "\n"
    elif fmt == "cosign-vuln":
        text = json.dumps(to_cosign_vuln(report), indent=2) + "\n"
    elif fmt == "cyclonedx":
        text = json.dumps(to_cyclonedx(report), indent=2) + "\n"
    elif fmt == "table":
        text = to_table(report)
    else:
        raise fatal(f"format {fmt} is not imitated by the trivy stand-in")
    if output:
        Path(output).write_text(text)
    else:
        sys.stdout.write(text)


# --- commands ----------------------------------------------------------------


def _db_ready(flags: dict) -> Path:
    cache = Path(flags.get("cache-dir") or Path(os.environ.get("HOME", "/root")) / ".cache" / "trivy")
    marker = cache / "db" / "metadata.json"
    if flags.get("skip-db-update"):
        if not marker.exists():
            raise fatal("run error: init error: DB error: failed to download vulnerability DB: database error: "
                        "--skip-db-update cannot be specified on the first run")
    else:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"Version": 2, "NextUpdate": now(), "UpdatedAt": now(),
                                      "repositories": flags.get("db-repository") or []}))
    return marker


def _severities(flags: dict) -> list[str]:
    sev = [s.upper() for s in flags.get("severity") or SEVERITIES]
    bad = [s for s in sev if s not in SEVERITIES]
    if bad:
        raise fatal(f"flag error: severity error: unknown severity option: unable to parse severity: {bad[0]}")
    return sev


def cmd_image(flags: dict, args: list[str], log: dict) -> int:
    target = flags.get("input")
    if not target:
        raise fatal("the trivy stand-in scans --input only (no registry or daemon access)")
    if args:
        raise fatal("--input and an image name are exclusive")
    scanners = flags.get("scanners") or ["vuln", "secret"]
    if "vuln" in scanners:
        _db_ready(flags)
    img = open_input(target)
    report = scan_image(img, target, scanners, bool(flags.get("list-all-pkgs")))
    report = filter_report(report, _severities(flags), bool(flags.get("ignore-unfixed")))
    log.update(input=str(Path(target.split("@")[0]).resolve()), manifest_digest=img.manifest_digest, config_digest=img.config_digest,
               platform=f"{img.config.get('os')}/{img.config.get('architecture')}", scanners=scanners,
               findings=_count(report))
    write(report, flags.get("format", "table"), flags.get("output"))
    return flags.get("exit-code", 0) if failed(report) else 0


def _count(report: dict) -> dict:
    out: dict = {}
    for r in report.get("Results") or []:
        for item in (r.get("Vulnerabilities") or []) + (r.get("Secrets") or []) + [m for m in r.get("Misconfigurations") or [] if m.get("Status") == "FAIL"]:
            out[item["Severity"]] = out.get(item["Severity"], 0) + 1
    return out


def cmd_convert(flags: dict, args: list[str], log: dict) -> int:
    if len(args) != 1:
        raise TrivyExit(1, f"Error: accepts 1 arg(s), received {len(args)}")
    try:
        report = json.loads(Path(args[0]).read_text())
    except (OSError, ValueError) as err:
        raise fatal(f"run error: json decode error: {err}") from None
    report = filter_report(report, _severities(flags), False)
    log.update(input=args[0], findings=_count(report), format=flags.get("format", "table"))
    write(report, flags.get("format", "table"), flags.get("output"))
    return flags.get("exit-code", 0) if failed(report) else 0


DS002 = {"Type": "Dockerfile Security Check", "ID": "DS002", "AVDID": "AVD-DS-0002", "Title": "Image user should not be 'root'",
         "Description": "Running containers with 'root' user can lead to a container escape situation. It is a best practice to run containers as non-root users, which can be done by adding a 'USER' statement to the Dockerfile.",
         "Message": "Specify at least 1 USER command in Dockerfile with non-root user as argument",
         "Namespace": "builtin.dockerfile.DS002", "Query": "data.builtin.dockerfile.DS002.deny",
         "Resolution": "Add 'USER <non root user name>' line to the Dockerfile", "Severity": "HIGH",
         "PrimaryURL": "https://avd.aquasec.com/misconfig/ds002",
         "References": ["https://docs.docker.com/develop/develop-images/dockerfile_best-practices/", "https://avd.aquasec.com/misconfig/ds002"],
         "Status": "FAIL", "Layer": {}, "CauseMetadata": {"Provider": "Dockerfile", "Service": "general", "Code": {"Lines": None}, "RenderedCause": {}}}
DS026 = {**DS002, "ID": "DS026", "AVDID": "AVD-DS-0026", "Title": "No HEALTHCHECK defined",
         "Description": "You should add HEALTHCHECK instruction in your docker container images to perform the health check on running containers.",
         "Message": "Add HEALTHCHECK instruction in your Dockerfile", "Namespace": "builtin.dockerfile.DS026",
         "Query": "data.builtin.dockerfile.DS026.deny", "Resolution": "Add HEALTHCHECK instruction in Dockerfile", "Severity": "LOW",
         "PrimaryURL": "https://avd.aquasec.com/misconfig/ds026",
         "References": ["https://blog.aquasec.com/docker-security-best-practices", "https://avd.aquasec.com/misconfig/ds026"]}


def _is_dockerfile(p: Path) -> bool:
    n = p.name.lower()
    return n == "dockerfile" or n.startswith("dockerfile.") or n.endswith(".dockerfile") or n == "containerfile"


def cmd_config(flags: dict, args: list[str], log: dict) -> int:
    if len(args) != 1:
        raise TrivyExit(1, f"Error: accepts 1 arg(s), received {len(args)}")
    root = Path(args[0])
    if not root.exists():
        raise fatal(f"run error: scan error: scan failed: stat {root}: no such file or directory")
    scanners = flags.get("misconfig-scanners") or ["dockerfile"]
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and _is_dockerfile(p))
    report = {"SchemaVersion": 2, "CreatedAt": now(), "ArtifactName": args[0], "ArtifactType": "filesystem", "Metadata": {
        "ImageConfig": {"architecture": "", "created": "0001-01-01T00:00:00Z", "os": "", "rootfs": {"type": "", "diff_ids": None}, "config": {}}},
        "Results": []}
    if "dockerfile" in scanners:
        for f in files:
            text = f.read_text(errors="replace")
            instructions = [l.strip().split(None, 1)[0].upper() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
            fails = []
            users = [l.split(None, 1)[1].strip() for l in text.splitlines() if l.strip().upper().startswith("USER ") and len(l.split()) > 1]
            if not users or users[-1] in ("root", "0", "0:0"):
                fails.append(dict(DS002))
            if "HEALTHCHECK" not in instructions:
                fails.append(dict(DS026))
            rel = str(f.relative_to(root)) if root.is_dir() else f.name
            report["Results"].append({"Target": rel, "Class": "config", "Type": "dockerfile",
                                      "MisconfSummary": {"Successes": 27 - len(fails), "Failures": len(fails)},
                                      "Misconfigurations": fails})
    report = filter_report(report, _severities(flags), False)
    log.update(input=str(root), findings=_count(report), dockerfiles=len(files))
    write(report, flags.get("format", "table"), flags.get("output"))
    return flags.get("exit-code", 0) if failed(report) else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    log: dict = {"args": argv}
    code = 0
    try:
        sub, flags, args = parse(argv)
        log["command"] = sub
        if flags.get("version") or sub == "version":
            print(f"Version: {version()}\nVulnerability DB:\n  Version: 2\n  UpdatedAt: {now()}")
        elif sub in ("image", "i"):
            code = cmd_image(flags, args, log)
        elif sub == "convert":
            code = cmd_convert(flags, args, log)
        elif sub in ("config", "conf"):
            code = cmd_config(flags, args, log)
        else:
            raise TrivyExit(1, "Error: the trivy stand-in needs a subcommand: image, convert, config")
    except TrivyExit as err:
        print(err.message, file=sys.stderr)
        code = err.code
        log["error"] = err.message
    log["exit"] = code
    action.record("trivy", **log)
    return code
