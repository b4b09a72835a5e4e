"""The cosign stand-in: `cosign sign` and `cosign attest --type vuln`, by
digest, against the e2e registry. No keys and no Sigstore: the signature
bytes are placeholders; what is real is where cosign writes and what it
refuses.

- The subject must be `REPO@sha256:…` and exist in the registry (the
  stand-in refuses a tag; real cosign 2.x only warns, the gate's templates
  sign by digest and this keeps them honest).
- Legacy format (`--new-bundle-format=false`): a manifest under the tag
  `sha256-<hex>.sig` (sign) or `.att` (attest), layers
  application/vnd.dev.cosign.simplesigning.v1+json resp.
  application/vnd.dsse.envelope.v1+json; a second attestation adds a layer
  (sigstore/cosign pkg/oci/mutate, static.NewSignature/NewAttestation).
- Bundle format (cosign v3 default): an OCI 1.1 referrer (manifest with
  `subject`, artifactType application/vnd.dev.sigstore.bundle.v0.3+json);
  distribution 2.8 has no referrers API, so the referrers tag schema
  fallback tag `sha256-<hex>` holds the index of referrers.
- `--type vuln` predicates must have the cosign vuln shape
  (CosignVulnPredicate: scanner{uri,version,result}, metadata{scanStartedOn,
  scanFinishedOn}); the statement's predicateType is
  https://cosign.sigstore.dev/attestation/vuln/v1.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from . import action
from .oci import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, OciError, Reference, Registry, canonical_json, digest_of

VERSION = "v2.5.3"
SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE = "application/vnd.dsse.envelope.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PREDICATE_TYPES = {"vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
                   "slsaprovenance": "https://slsa.dev/provenance/v0.2",
                   "spdxjson": "https://spdx.dev/Document",
                   "cyclonedx": "https://cyclonedx.org/bom",
                   "custom": "https://cosign.sigstore.dev/attestation/v1"}

# flags accepted (name: takes a value); global ones included
COMMON = {"yes": False, "y": False, "key": True, "new-bundle-format": False, "use-signing-config": False,
          "tlog-upload": False, "upload": False, "recursive": False, "r": False, "identity-token": True,
          "oidc-issuer": True, "oidc-client-id": True, "oidc-provider": True, "fulcio-url": True, "rekor-url": True,
          "allow-insecure-registry": False, "allow-http-registry": False, "registry-username": True,
          "registry-password": True, "timeout": True, "t": True, "verbose": False, "d": False, "output-file": True,
          "bundle": True, "certificate": True, "certificate-chain": True, "signing-config": True, "trusted-root": True}
SIGN = {**COMMON, "annotations": True, "a": True, "output-signature": True, "output-certificate": True,
        "output-payload": True, "sign-container-identity": True, "attachment": True}
ATTEST = {**COMMON, "type": True, "predicate": True, "replace": False, "no-upload": False}


class CosignError(Exception):
    pass


def parse(argv: list[str], known: dict) -> tuple[dict, list[str]]:
    flags, args, i = {}, [], 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-"):
            args.append(arg)
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if name not in known:
            raise CosignError(f"Error: unknown flag: {arg.split('=')[0]}" if arg.startswith("--") else
                              f"Error: unknown shorthand flag: '{name[:1]}' in {arg}")
        if known[name] and not eq:
            if i >= len(argv):
                raise CosignError(f"Error: flag needs an argument: {arg}")
            value, i = argv[i], i + 1
        flags[name] = value if (known[name] or eq) else "true"
    return flags, args


def _subject(args: list[str]) -> tuple[Reference, Registry, str]:
    if len(args) != 1:
        raise CosignError(f"Error: accepts 1 arg(s), received {len(args)}")
    try:
        ref = Reference.parse(args[0])
    except OciError as err:
        raise CosignError(f"Error: parsing reference: {err}") from None
    if not ref.digest:
        raise CosignError(f"Error: the cosign stand-in signs by digest only: {args[0]} names a tag (use REPO@sha256:...)")
    reg = Registry(ref.registry)
    try:
        digest, _, _ = reg.get_manifest(ref.repository, ref.digest)
    except OciError as err:
        raise CosignError(f"Error: signing [{args[0]}]: accessing entity: {err}") from None
    return ref, reg, digest


def _push(reg: Registry, repo: str, tag: str, layers: list[tuple[bytes, str, dict]], *, append: bool,
          subject: dict | None = None, artifact_type: str | None = None) -> tuple[str, int]:
    """Push blobs and a manifest (appending to the one under `tag` when
    `append`); returns (manifest digest, bytes sent)."""
    sent = 0
    descs = []
    if append:
        try:
            _, data, _ = reg.get_manifest(repo, tag)
            descs = json.loads(data)["layers"]
        except OciError:
            descs = []
    for blob, media, annotations in layers:
        sent += reg.push_blob(repo, digest_of(blob), blob)
        descs.append({"mediaType": media, "size": len(blob), "digest": digest_of(blob), "annotations": annotations})
    config = canonical_json({"architecture": "", "created": "0001-01-01T00:00:00Z", "history": [{"created": "0001-01-01T00:00:00Z"}],
                             "os": "", "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]}, "config": {}})
    sent += reg.push_blob(repo, digest_of(config), config)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "size": len(config), "digest": digest_of(config)}, "layers": descs}
    if artifact_type:
        manifest["artifactType"] = artifact_type
    if subject:
        manifest["subject"] = subject
    data = canonical_json(manifest)
    digest = reg.put_manifest(repo, tag if not subject else digest_of(data), data, OCI_MANIFEST)
    return digest, sent + len(data)


def _referrer(reg: Registry, ref: Reference, digest: str, blob: bytes, annotations: dict) -> tuple[str, int]:
    """Bundle format: a referrer manifest, listed under the referrers tag
    schema fallback tag sha256-<hex> (distribution 2.8 has no referrers API)."""
    _, subject_bytes, media = reg.get_manifest(ref.repository, digest)
    subject = {"mediaType": media or OCI_MANIFEST, "digest": digest, "size": len(subject_bytes)}
    mdigest, sent = _push(reg, ref.repository, "", [(blob, BUNDLE, annotations)], append=False, subject=subject, artifact_type=BUNDLE)
    tag = digest.replace(":", "-")
    try:
        _, data, _ = reg.get_manifest(ref.repository, tag)
        index = json.loads(data)
    except OciError:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    _, mbytes, _ = reg.get_manifest(ref.repository, mdigest)
    index["manifests"].append({"mediaType": OCI_MANIFEST, "digest": mdigest, "size": len(mbytes), "artifactType": BUNDLE})
    data = canonical_json(index)
    reg.put_manifest(ref.repository, tag, data, OCI_INDEX)
    return f"{ref.name}:{tag}", sent + len(data)


def sign(argv: list[str]) -> dict:
    flags, args = parse(argv, SIGN)
    ref, reg, digest = _subject(args)
    payload = canonical_json({"critical": {"identity": {"docker-reference": ref.name}, "image": {"docker-manifest-digest": digest},
                                           "type": "cosign container image signature"}, "optional": None})
    sig = base64.b64encode(b"e2e-placeholder-signature:" + digest.encode()).decode()
    legacy = flags.get("new-bundle-format", "true") == "false"
    if legacy:
        tag = digest.replace(":", "-") + ".sig"
        _, sent = _push(reg, ref.repository, tag, [(payload, SIMPLESIGNING, {"dev.cosignproject.cosign/signature": sig})], append=True)
        pushed = f"{ref.name}:{tag}"
    else:
        bundle = canonical_json({"mediaType": BUNDLE, "messageSignature": {"signature": sig}, "payload": payload.decode()})
        pushed, sent = _referrer(reg, ref, digest, bundle, {"dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"})
    return {"command": "sign", "subject": f"{ref.name}@{digest}", "pushed": pushed, "format": "legacy" if legacy else "bundle", "bytes_pushed": sent}


def _vuln_predicate(path: str) -> dict:
    try:
        pred = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise CosignError(f"Error: reading predicate {path}: {err}") from None
    scanner = pred.get("scanner") if isinstance(pred, dict) else None
    ok = (isinstance(scanner, dict) and scanner.get("uri") and scanner.get("version") and "result" in scanner
          and isinstance(pred.get("metadata"), dict) and pred["metadata"].get("scanStartedOn") and pred["metadata"].get("scanFinishedOn"))
    if not ok:
        raise CosignError(f"Error: {path} is not a cosign vuln predicate (scanner.uri, scanner.version, scanner.result, metadata.scanStartedOn/scanFinishedOn)")
    return pred


def attest(argv: list[str]) -> dict:
    flags, args = parse(argv, ATTEST)
    kind = flags.get("type", "custom")
    if "predicate" not in flags:
        raise CosignError("Error: required flag(s) \"predicate\" not set")
    ref, reg, digest = _subject(args)
    if kind == "vuln":
        predicate = _vuln_predicate(flags["predicate"])
    else:
        try:
            predicate = json.loads(Path(flags["predicate"]).read_text())
        except (OSError, ValueError) as err:
            raise CosignError(f"Error: reading predicate: {err}") from None
    ptype = PREDICATE_TYPES.get(kind, kind)
    statement = {"_type": "https://in-toto.io/Statement/v0.1", "predicateType": ptype,
                 "subject": [{"name": ref.name, "digest": {"sha256": digest[7:]}}], "predicate": predicate}
    envelope = canonical_json({"payloadType": "application/vnd.in-toto+json",
                               "payload": base64.b64encode(canonical_json(statement)).decode(),
                               "signatures": [{"keyid": "", "sig": base64.b64encode(b"e2e-placeholder").decode()}]})
    legacy = flags.get("new-bundle-format", "true") == "false"
    if legacy:
        tag = digest.replace(":", "-") + ".att"
        _, sent = _push(reg, ref.repository, tag, [(envelope, DSSE, {"predicateType": ptype})], append=flags.get("replace") != "true")
        pushed = f"{ref.name}:{tag}"
    else:
        pushed, sent = _referrer(reg, ref, digest, envelope, {"dev.sigstore.bundle.predicateType": ptype})
    return {"command": "attest", "subject": f"{ref.name}@{digest}", "type": kind, "predicate_type": ptype,
            "pushed": pushed, "format": "legacy" if legacy else "bundle", "bytes_pushed": sent}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    record: dict = {"args": argv}
    try:
        if not argv or argv[0] in ("version", "--version"):
            print(f"GitVersion:    {VERSION}")
            return 0
        if argv[0] == "sign":
            record.update(sign(argv[1:]))
        elif argv[0] == "attest":
            record.update(attest(argv[1:]))
        else:
            raise CosignError(f'Error: unknown command "{argv[0]}" for "cosign" (the stand-in has sign, attest, version)')
        print(f"Pushing {record['pushed']}", file=sys.stderr)
        return 0
    except (CosignError, OciError) as err:
        record["error"] = str(err)
        print(str(err), file=sys.stderr)
        return 1
    finally:
        action.record("cosign", **record)
