#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! Pushes that go straight from a builder to a registry (issue 14): each is
//! detected, never "unchanged". `migrate` refuses the file with exit 3, the
//! cause and the fix, and leaves it as it was; `check` reports the push as
//! `ungated-push`. One fixture each under `fixtures/shapes/refused/`.

use std::path::Path;

use assert_cmd::Command;

/// (fixture, the 1-based line:column of the pushing step, words of the
/// reason, words of the hint).
const REFUSED: &[(&str, &str, &str, &str)] = &[
    (
        "dotnet-container.yml",
        "26:7",
        "pushes it to `ContainerRegistry` in one step",
        "ContainerArchiveOutputPath",
    ),
    // Jib is migrated when the job logs in (`fixtures/shapes/…/jib.yml`) or
    // its step gives Jib credentials (`jib-auth.yml`, `jib-env.yml`);
    // with credentials of Jib's own nothing could push after the scan.
    (
        "jib-gradle.yml",
        "14:7",
        "Jib pushes with credentials of its own",
        "log in with docker/login-action",
    ),
    (
        "ko.yml",
        "23:7",
        "builds several import paths",
        "build each import path in a step of its own",
    ),
    ("pack.yml", "20:7", "`--publish`", "drop `--publish`"),
    (
        "goreleaser.yml",
        "24:7",
        "logs in to a container registry",
        "skip_push: true",
    ),
    (
        "cloud-build.yml",
        "23:7",
        "pushes it from its own machines",
        "a Trivy step ahead of `images:`",
    ),
    (
        "sam-deploy.yml",
        "23:7",
        "`sam deploy` with `--resolve-image-repos`: the SAM CLI pushes",
        "a Trivy step (failing on findings) before `sam deploy`",
    ),
    (
        "heroku-push.yml",
        "19:7",
        "`heroku container:push web --app api`: the Heroku CLI builds the image and pushes it",
        "docker push registry.heroku.com/APP/PROCESS",
    ),
    (
        "devcontainer-ci.yml",
        "24:7",
        "devcontainers/ci builds the dev container image and pushes it",
        "set `push: never`",
    ),
    (
        "kaniko.yml",
        "19:7",
        "each `--destination`",
        "--no-push --tar-path",
    ),
    (
        "compose-push.yml",
        "25:7",
        "every service of the compose file",
        "docker push IMAGE",
    ),
    (
        "push-to-registry-fork.yml",
        "25:7",
        "is a fork of `redhat-actions/push-to-registry`",
        "buildah push IMAGE",
    ),
    (
        "command-action.yml",
        "23:7",
        "`nick-fields/retry` runs `buildx build --platform linux/amd64 --push` from its `command:` input",
        "build and push in `run:` steps",
    ),
    (
        "publish-action.yml",
        "17:7",
        "builds and pushes in one step",
        "docker/login-action + docker/build-push-action",
    ),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scangate(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("scangate")
        .unwrap()
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn migrate_refuses_each_with_the_cause_and_the_fix_and_writes_nothing() {
    for (file, at, reason, hint) in REFUSED {
        let rel = format!("fixtures/shapes/refused/{file}");
        let before = std::fs::read(root().join(&rel)).unwrap();
        let (code, stdout, stderr) = scangate(&["migrate", "--write", "--color", "never", &rel]);
        assert_eq!(code, Some(3), "{file}: {stderr}");
        assert!(stdout.is_empty(), "{file}: {stdout}");
        assert!(
            stderr.contains(&format!("{rel}:{at}: ")),
            "{file}: {stderr}"
        );
        assert!(stderr.contains(reason), "{file}: {stderr}");
        assert!(stderr.contains(hint), "{file}: {stderr}");
        assert_eq!(std::fs::read(root().join(&rel)).unwrap(), before, "{file}");
    }
}

#[test]
fn check_reports_each_as_an_ungated_push() {
    for (file, at, _, _) in REFUSED {
        let rel = format!("fixtures/shapes/refused/{file}");
        let (code, stdout, stderr) = scangate(&["check", "--format", "json", &rel]);
        assert_eq!(code, Some(1), "{file}: {stderr}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let findings = report["files"][0]["findings"].as_array().unwrap();
        let (line, _) = at.split_once(':').unwrap();
        let line: u64 = line.parse().unwrap();
        assert!(
            findings
                .iter()
                .any(|f| f["rule"] == "ungated-push" && f["line"].as_u64() <= Some(line)),
            "{file}: {stdout}"
        );
    }
}

/// The same builders kept local push nothing: no refusal, nothing to do.
#[test]
fn local_builds_are_no_push() {
    let local = [
        "run: dotnet publish -t:PublishContainer -p:ContainerRepository=acme/api",
        "run: ./mvnw -B package jib:dockerBuild",
        "run: ./gradlew jibBuildTar",
        "run: ko build --push=false --tarball=image.tar ./cmd/server",
        "run: ko build --local ./cmd/server",
        "run: pack build acme/web --builder paketobuildpacks/builder-jammy-base",
        "run: /kaniko/executor --context . --destination ghcr.io/acme/w:1 --no-push --tar-path=image.tar",
        "run: docker compose build && git push origin main",
        "run: docker buildx build --output \"type=image,push=false\" .",
        "run: az acr build --registry acme --image api:1 --no-push .",
        "run: gcloud builds submit --config cloudbuild.yaml .",
        "run: sam deploy --resolve-s3 --no-confirm-changeset",
        // GoReleaser pushes images only once its job logs in to a registry.
        "uses: goreleaser/goreleaser-action@v6",
        "uses: docker/build-push-action@v1\n        with:\n          repository: acme/app\n          push: false",
        // Jib and build plugins kept local.
        "run: mvn package jib:dockerBuild -Djib.to.auth.username=me",
        "run: mvn -B package docker:build",
        "run: ./mvnw spring-boot:build-image",
        "run: ./mvnw package -Dquarkus.container-image.build=true",
        // Publish actions whose push is off, as their READMEs say.
        "uses: ilteoood/docker_buildx@master\n        with:\n          imageName: acme/app",
        "uses: int128/kaniko-action@v1\n        with:\n          tags: ghcr.io/acme/app:1",
        "uses: elgohr/Publish-Docker-Github-Action@v5\n        with:\n          name: acme/app\n          no_push: true",
        "uses: whoan/docker-build-with-cache-action@v8\n        with:\n          image_name: acme/app\n          push_image_and_stages: false",
        "uses: mr-smithers-excellent/docker-build-push@v6\n        with:\n          image: acme/app\n          pushImage: false",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (n, step) in local.iter().enumerate() {
        let path = one_step_workflow(dir.path(), n, step);
        let (code, _, stderr) = scangate(&["migrate", "--check", "--color", "never", &path]);
        assert_eq!(code, Some(0), "{step}: {stderr}");
    }
}

/// A workflow of one job whose one step is `step` (`run: …` or `uses: …`).
fn one_step_workflow(dir: &Path, n: usize, step: &str) -> String {
    let path = dir.join(format!("workflow-{n}.yml"));
    std::fs::write(
        &path,
        format!(
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    steps:\n      - {step}\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

/// Other spellings of the same pushes, as real workflows write them: each
/// is seen (exit 3, never "unchanged").
#[test]
fn other_spellings_are_pushes_too() {
    let pushing = [
        // The dotnet CLI takes `-p Name=Value` as well as `-p:Name=Value`.
        "run: dotnet publish -t:PublishContainer --arch x64 -p ContainerRegistry=ghcr.io /check",
        "run: dotnet publish /t:PublishContainer --property:ContainerRegistry=ghcr.io",
        "run: dotnet publish -t:PublishContainer --property ContainerRegistry=ghcr.io",
        "run: ./gradlew --no-daemon -Djib.to.image=x :bot:jib",
        // buildx pushing through an exporter that also names the image or
        // sets what the export could not take (without those it is
        // migrated, `compression=zstd` and the other attributes that change
        // the bytes carried to the export).
        "run: docker buildx build --output \"type=image,name=ghcr.io/a/b:1,push=true\" .",
        "run: docker buildx build -o type=registry,push-by-digest=true -t ghcr.io/a/b:1 .",
        // Cloud build services build and push on their own machines.
        "run: gcloud builds submit --region=us-west2 --tag gcr.io/acme/api .",
        "run: gcloud beta builds submit --pack image=gcr.io/acme/api",
        "run: az acr build --registry acme --image api:${{ github.sha }} .",
        // Jib bound to a phase, given push credentials on the command line.
        "run: mvn package -Djib.to.auth.username=me -Djib.to.auth.password=\"$T\"",
        // Build plugins that push from inside the build.
        "run: mvn -B package docker:build docker:push -Dimage.tag=1",
        "run: ./mvnw spring-boot:build-image -Dspring-boot.build-image.publish=true",
        "run: ./gradlew bootBuildImage --publishImage",
        "run: ./mvnw -B package -Dquarkus.container-image.build=true -Dquarkus.container-image.push=true",
        // A fork of push-to-registry pushes as the original does.
        "uses: travier/push-to-registry@sigstore-signing",
        // docker/build-push-action v1 pushes unless told not to.
        "uses: docker/build-push-action@v1\n        with:\n          repository: acme/app\n          tag_with_ref: true",
        // Publish actions that build and push in one step (input names are
        // matched without case; an expression may turn the push on).
        "uses: aevea/action-kaniko@master\n        with:\n          image: acme/app",
        "uses: MathieuSoysal/jib-container-publish.yml@v2.1.4\n        with:\n          PASSWORD: ${{ secrets.GITHUB_TOKEN }}",
        "uses: ilteoood/docker_buildx@master\n        with:\n          publish: true\n          imageName: acme/app",
        "uses: int128/kaniko-action@v1\n        with:\n          push: ${{ github.event_name == 'push' }}",
        "uses: elgohr/Publish-Docker-Github-Action@v5\n        with:\n          name: acme/app\n          no_push: ${{ github.event_name == 'pull_request' }}",
        "uses: whoan/docker-build-with-cache-action@v8\n        with:\n          image_name: acme/app",
        "uses: mr-smithers-excellent/docker-build-push@v6\n        with:\n          image: acme/app\n          PushImage: true",
        "uses: jerray/publish-docker-action@master\n        with:\n          repository: acme/app",
        "uses: macbre/push-to-ghcr@master\n        with:\n          image_name: acme/app",
        "uses: RafikFarhad/push-to-gcr-github-action@v4\n        with:\n          registry: europe-west4-docker.pkg.dev\n          image_name: acme/app",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (n, step) in pushing.iter().enumerate() {
        let path = one_step_workflow(dir.path(), n, step);
        let (code, _, stderr) = scangate(&["migrate", "--check", "--color", "never", &path]);
        assert_eq!(code, Some(3), "{step}: {stderr}");
        let (code, stdout, _) = scangate(&["check", "--format", "json", &path]);
        assert_eq!(code, Some(1), "{step}");
        assert!(stdout.contains("ungated-push"), "{step}: {stdout}");
    }
}

/// `ko build` is migrated (its command renamed to a stand-in that builds a
/// tarball, or an OCI layout of several platforms); what that rewrite
/// cannot keep is refused, naming the cause.
#[test]
fn ko_commands_the_rewrite_cannot_keep_are_refused_with_the_cause() {
    let cases = [
        (
            "run: ko resolve -f config/ > release.yaml",
            "`ko resolve` builds, pushes and writes or deploys YAML",
        ),
        (
            "run: ko build ./cmd/api ./cmd/worker",
            "several import paths",
        ),
        ("run: ko build --image-refs refs.txt .", "`--image-refs`"),
        (
            "run: ko build --oci-layout-path out .",
            "`--oci-layout-path`",
        ),
        (
            "run: echo \"image=$(ko build --bare .)\" >> \"$GITHUB_OUTPUT\"",
            "ko's output (the pushed image's digest) is captured",
        ),
        ("run: sudo ko build .", "runs through `sudo`"),
        ("run: $HOME/go/bin/ko build .", "ko is run by its path"),
        (
            "run: |\n          ko build --bare .\n          git tag \"v$VERSION\"",
            "`git tag \"v$VERSION\"` follows",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (n, step) in cases.iter().enumerate() {
        let (step, cause) = step;
        let path = one_step_workflow(dir.path(), n, step);
        let before = std::fs::read(&path).unwrap();
        let (code, _, stderr) = scangate(&["migrate", "--write", "--color", "never", &path]);
        assert_eq!(code, Some(3), "{step}: {stderr}");
        assert!(stderr.contains(cause), "{step}: {stderr}");
        assert!(stderr.contains(":6:7: "), "{step}: {stderr}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "{step}");
    }
}
