"""The Jib stand-in: Maven's `jib:build` / `jib:buildTar` and Gradle's `jib` /
`jibBuildTar`, run by the fixture repository's `./mvnw` and `./gradlew`
(services.py writes both wrappers), without Java.

Faithful parts (sources read: GoogleContainerTools/jib README and FAQ of the
Maven and Gradle plugins, jib#2043 / jib#2054 "Add extra tags to tar image",
released in 1.7.0):
- goals and tasks: Maven `jib:build` (push), `jib:buildTar`, the plugin's
  coordinates `com.google.cloud.tools:jib-maven-plugin[:VERSION]:GOAL`;
  Gradle `jib`, `jibBuildTar`, of the root project or `:a:b:` subprojects;
  other goals and tasks (`package`, `build`, `--no-daemon`, `-B`) run as
  no-ops; an unknown jib goal or task fails as Maven / Gradle do.
- configuration: the system properties `jib.to.image`, `jib.to.tags`
  (comma-separated) and `jib.to.auth.username`/`.password` (the push's
  credentials, before Docker's), and Gradle's `--image` option; a
  target image without a tag is `:latest`; `jib.to.image` unset fails the
  registry push ("Missing target image parameter").
- the module's build file, under the command line (which overrides it):
  `jib { to { image = '…'; auth { username = …; password = … } } }` of
  `build.gradle(.kts)` and `<to><image>…</image><auth><username>…` of
  `pom.xml`, each value a string or an environment variable
  (`System.getenv('NAME')`, `${env.NAME}`); a variable that is unset
  leaves the credential unset (Jib then uses Docker's).
- `build` pushes the image under the target and every tag (with the Docker
  credentials the job logged in with, as Jib reads ~/.docker/config.json);
  `buildTar` writes a docker-load tarball `<module>/target/jib-image.tar`
  (Maven) or `<module>/build/jib-image.tar` (Gradle) whose manifest.json
  has one image with every reference as RepoTags, and pushes nothing.
- both write `jib-image.digest` and `jib-image.id` beside it.
Simplified: no Java build. The image is the fixture's FROM-scratch rootfs of
the module's build context (`services/<name>` when it exists, else the
repository root), plus Jib's `/app/classes` layer; one platform
(linux/amd64). Pushes go through skopeo, as ko's stand-in does."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

from . import ko

MAVEN_GOAL = re.compile(r"^(?:jib|com\.google\.cloud\.tools:jib-maven-plugin(?::[^:]+)?):(\w+)$")
GRADLE_TASK = re.compile(r"^((?::[\w-]+)*):?(jib\w*)$")
GOALS = {"build": True, "buildTar": False}
TASKS = {"jib": True, "jibBuildTar": False}


class JibError(Exception):
    pass


def parse(tool: str, argv: list[str]) -> tuple[dict, list[tuple[str, bool]]]:
    """(system properties and options, [(module folder, push)]) of a Maven or
    Gradle command line."""
    props: dict[str, str] = {}
    builds: list[tuple[str, bool]] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg.startswith("-D"):
            key, _, value = arg[2:].partition("=")
            props[key] = value
        elif arg.startswith("--image="):
            props["jib.to.image"] = arg.split("=", 1)[1]
        elif arg == "--image":
            props["jib.to.image"] = argv[i]
            i += 1
        elif arg in ("-pl", "--projects", "-f", "--file"):
            props[arg] = argv[i]
            i += 1
        elif tool == "maven" and (m := MAVEN_GOAL.match(arg)):
            if m.group(1) not in GOALS:
                raise JibError(f"Could not find goal '{m.group(1)}' in plugin com.google.cloud.tools:jib-maven-plugin")
            builds.append((props.get("-pl", "."), GOALS[m.group(1)]))
        elif tool == "gradle" and (m := GRADLE_TASK.match(arg)):
            if m.group(2) not in TASKS:
                raise JibError(f"Task '{m.group(2)}' not found in project")
            module = m.group(1).strip(":").replace(":", "/") or "."
            builds.append((module, TASKS[m.group(2)]))
    return props, builds


GRADLE_VALUE = r"""\s*=\s*(?:System\.getenv\(\s*["'](?P<env>\w+)["']\s*\)|["'](?P<lit>[^"']*)["'])"""
MAVEN_VALUE = r"\s*(?:\$\{env\.(?P<env>\w+)\}|(?P<lit>[^<]*))\s*</"


def build_file(folder: Path, tool: str) -> dict[str, str]:
    """`jib.to.image` and `jib.to.auth.*` as the module's build file sets
    them (only the values that are set)."""
    if tool == "gradle":
        files, block = ["build.gradle", "build.gradle.kts"], r"\bto\s*\{(.*?\})\s*\}"
        pattern = lambda key: rf"\b{key}{GRADLE_VALUE}"
    else:
        files, block = ["pom.xml"], r"<to>(.*?)</to>"
        pattern = lambda key: rf"<{key}>{MAVEN_VALUE}{key}>"
    text = next((f.read_text() for name in files if (f := folder / name).is_file()), "")
    to = re.search(block, text, re.S)
    config = {}
    for key, prop in (("image", "jib.to.image"), ("username", "jib.to.auth.username"), ("password", "jib.to.auth.password")):
        m = re.search(pattern(key), to.group(1)) if to else None
        value = m and (os.environ.get(m.group("env")) if m.group("env") else m.group("lit"))
        if value:
            config[prop] = value
    return config


def references(props: dict) -> list[str]:
    image = props.get("jib.to.image", "")
    if not image:
        raise JibError("Missing target image parameter: set jib.to.image")
    last = image.rsplit("/", 1)[-1]
    repo, tag = (image.rsplit(":", 1) if ":" in last else (image, "latest"))
    tags = [t.strip() for t in props.get("jib.to.tags", "").split(",") if t.strip()]
    return [f"{repo}:{tag}"] + [f"{repo}:{t}" for t in tags if t != tag]


def build_image(workdir: Path, module: str) -> tuple[bytes, list[bytes]]:
    base = Path(module).name if module != "." else "app"
    rootfs = ko._context_rootfs(workdir, base, "amd64")
    files = sorted(p for p in rootfs.rglob("*") if p.is_file())
    layers = [
        ko._layer([(str(p.relative_to(rootfs)), p, p.stat().st_mode & 0o777) for p in files]),
        ko._layer([(f"app/classes/{base}/Main.class", f"jib {module}\n".encode(), 0o644)]),
    ]
    config = {
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": ["java", "-cp", "@/app/jib-classpath-file", "Main"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "jib"}],
    }
    return json.dumps(config, sort_keys=True).encode(), layers


def run(tool: str, argv: list[str]) -> int:
    props, builds = parse(tool, argv)
    workdir = Path.cwd()
    for module, push in builds:
        folder = workdir / module
        if not folder.is_dir():
            raise JibError(f"Project '{module}' not found in root project")
        # the command line overrides the build file
        settings = {**build_file(folder, tool), **props}
        refs = references(settings)
        config, layers = build_image(workdir, module)
        out = folder / ("target" if tool == "maven" else "build")
        out.mkdir(parents=True, exist_ok=True)
        digest = ko.manifest_digest(config, layers)
        if push:
            # jib.to.auth first, else Docker's credentials (as Jib reads them)
            user, password = settings.get("jib.to.auth.username"), settings.get("jib.to.auth.password")
            digest = ko.push([("linux/amd64", config, layers)], refs, f"{user}:{password}" if user and password else None)
        else:
            ko.write_tarball(out / "jib-image.tar", [(refs, config, layers)])
            print(f"Built image tarball at {out / 'jib-image.tar'}", file=sys.stderr)
        (out / "jib-image.digest").write_text(digest)
        (out / "jib-image.id").write_text("sha256:" + hashlib.sha256(config).hexdigest())
        path = os.environ.get("E2E_LOG")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"tool": "jib", "job": os.environ.get("GITHUB_JOB", ""), "build_tool": tool,
                                    "module": module, "refs": refs, "push": push, "digest": digest}, sort_keys=True) + "\n")
    return 0


def main(tool: str) -> int:
    try:
        return run(tool, sys.argv[1:])
    except (JibError, ko.KoError) as err:
        print(f"[ERROR] {err}", file=sys.stderr)
        return 1
