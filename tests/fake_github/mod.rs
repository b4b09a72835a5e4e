//! A stateful fake GitHub for `scangate pr` tests, served by wiremock on
//! 127.0.0.1: repositories with refs, commits and trees, the contents API
//! over them, compare, pulls, labels and reviewers — answering with
//! complete GitHub-shaped JSON (`tests/data/github`) — plus faults to inject
//! (status codes, headers, delays) and a log of every request.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)] // each test binary uses a part

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const TOKEN: &str = "ghp_FAKEtokenNEVERprintMe0123456789abcdef";

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub body: Value,
    pub at: Instant,
}

impl Seen {
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }
}

/// A response to give instead of the real one, `times` times, to requests
/// with `method` whose path ends with `path_suffix`. With `apply`, the
/// request still changes the state (the answer is lost, not the request).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path_suffix: String,
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
    pub delay: Duration,
    pub apply: bool,
    pub times: usize,
}

impl Fault {
    pub fn status(method: &'static str, path_suffix: &str, status: u16) -> Fault {
        Fault {
            method,
            path_suffix: path_suffix.to_owned(),
            status,
            headers: Vec::new(),
            body: json!({"message": "Server Error"}),
            delay: Duration::ZERO,
            apply: false,
            times: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CommitObj {
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
    /// The git author's name: `World::commit` is a person's commit,
    /// `POST /git/commits` scangate's.
    pub author: String,
}

#[derive(Debug, Clone)]
pub struct PullObj {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub state: String,
    pub draft: bool,
    pub labels: Vec<String>,
    pub reviewers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RepoObj {
    pub default_branch: String,
    pub refs: BTreeMap<String, String>,
    pub commits: HashMap<String, CommitObj>,
    pub trees: HashMap<String, BTreeMap<String, String>>,
    pub pulls: Vec<PullObj>,
}

#[derive(Debug, Default)]
pub struct World {
    pub repos: HashMap<String, RepoObj>,
    pub seen: Vec<Seen>,
    pub faults: VecDeque<Fault>,
    /// `X-OAuth-Scopes` on every answer; none for a fine-grained token.
    pub scopes: Option<String>,
    /// The token the fake accepts.
    pub token: String,
    /// Real answers to paths ending so come after this delay.
    pub slow: Vec<(String, Duration)>,
    counter: u64,
}

fn hash(bytes: &[u8]) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, bytes)
        .unwrap()
        .to_string()
}

/// The blob id of a file's content, as git (and GitHub) computes it.
pub fn blob_sha(content: &str) -> String {
    hash(content.as_bytes())
}

impl RepoObj {
    fn put_tree(&mut self, files: BTreeMap<String, String>) -> String {
        let sha = hash(format!("tree {files:?}").as_bytes());
        self.trees.insert(sha.clone(), files);
        sha
    }

    pub fn tree_of(&self, commit: &str) -> &BTreeMap<String, String> {
        &self.trees[&self.commits[commit].tree]
    }

    /// `commit` and all its ancestors, nearest first.
    fn ancestry(&self, commit: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut todo = vec![commit.to_owned()];
        while let Some(c) = todo.pop() {
            if out.contains(&c) {
                continue;
            }
            if let Some(obj) = self.commits.get(&c) {
                todo.extend(obj.parents.iter().rev().cloned());
            }
            out.push(c);
        }
        out
    }
}

impl World {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Adds a commit with `files` changed on top of `branch` (created at
    /// the default branch if missing) and moves the branch there.
    pub fn commit(
        &mut self,
        repo: &str,
        branch: &str,
        files: &[(&str, &str)],
        message: &str,
    ) -> String {
        let n = self.next();
        let r = self.repos.get_mut(repo).unwrap();
        let parent = r
            .refs
            .get(branch)
            .or_else(|| r.refs.get(&r.default_branch))
            .cloned();
        let mut tree = parent
            .as_ref()
            .map(|p| r.tree_of(p).clone())
            .unwrap_or_default();
        for (path, content) in files {
            tree.insert((*path).to_owned(), (*content).to_owned());
        }
        let tree = r.put_tree(tree);
        let sha = hash(format!("commit {n} {tree} {message}").as_bytes());
        r.commits.insert(
            sha.clone(),
            CommitObj {
                tree,
                parents: parent.into_iter().collect(),
                message: message.to_owned(),
                author: "Jane Doe".to_owned(),
            },
        );
        r.refs.insert(branch.to_owned(), sha.clone());
        sha
    }

    pub fn writes(&self) -> Vec<&Seen> {
        self.seen.iter().filter(|s| s.is_write()).collect()
    }

    pub fn count(&self, method: &str, path_suffix: &str) -> usize {
        self.seen
            .iter()
            .filter(|s| s.method == method && s.path.ends_with(path_suffix))
            .count()
    }
}

/// The fake: clone it into the mock and keep a handle for assertions.
#[derive(Clone)]
pub struct Fake {
    pub world: Arc<Mutex<World>>,
    pub uri: String,
}

fn sample(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

impl Fake {
    pub async fn start() -> (MockServer, Fake) {
        let server = MockServer::start().await;
        let fake = Fake {
            world: Arc::new(Mutex::new(World {
                token: TOKEN.to_owned(),
                scopes: Some("repo, workflow".to_owned()),
                ..World::default()
            })),
            uri: server.uri(),
        };
        Mock::given(any())
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        (server, fake)
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// A repository whose default branch `main` has one commit with `files`.
    pub fn add_repo(&self, full: &str, files: &[(&str, &str)]) {
        let mut w = self.world();
        w.repos.insert(
            full.to_owned(),
            RepoObj {
                default_branch: "main".to_owned(),
                ..RepoObj::default()
            },
        );
        w.commit(full, "main", files, "Initial commit");
    }

    pub fn fault(&self, fault: Fault) {
        self.world().faults.push_back(fault);
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut w = self.world();
        let i = w
            .faults
            .iter()
            .position(|f| f.method == method && path.ends_with(&f.path_suffix))?;
        let f = &mut w.faults[i];
        f.times -= 1;
        let out = f.clone();
        if f.times == 0 {
            w.faults.remove(i);
        }
        Some(out)
    }

    fn base(&self, full: &str) -> String {
        format!("{}/repos/{full}", self.uri)
    }

    fn repository(&self, full: &str, default_branch: &str) -> Value {
        let (owner, name) = full.split_once('/').unwrap();
        let mut v = sample("repository.json");
        v["name"] = json!(name);
        v["full_name"] = json!(full);
        v["owner"]["login"] = json!(owner);
        v["default_branch"] = json!(default_branch);
        v["url"] = json!(self.base(full));
        v
    }

    fn pull_json(&self, full: &str, p: &PullObj, r: &RepoObj) -> Value {
        let (owner, _) = full.split_once('/').unwrap();
        let mut v = sample("pull_request.json");
        v["number"] = json!(p.number);
        v["id"] = json!(1000 + p.number);
        v["url"] = json!(format!("{}/pulls/{}", self.base(full), p.number));
        v["html_url"] = json!(format!("https://github.com/{full}/pull/{}", p.number));
        v["state"] = json!(p.state);
        v["title"] = json!(p.title);
        v["body"] = json!(p.body);
        v["draft"] = json!(p.draft);
        v["head"]["ref"] = json!(p.head);
        v["head"]["label"] = json!(format!("{owner}:{}", p.head));
        v["head"]["sha"] = json!(r.refs.get(&p.head).cloned().unwrap_or_default());
        v["head"]["repo"] = self.repository(full, &r.default_branch);
        v["base"]["ref"] = json!(p.base);
        v["base"]["label"] = json!(format!("{owner}:{}", p.base));
        v["base"]["sha"] = json!(r.refs.get(&p.base).cloned().unwrap_or_default());
        v["base"]["repo"] = self.repository(full, &r.default_branch);
        v["labels"] = json!(p.labels.iter().map(|l| label(l)).collect::<Vec<_>>());
        v["requested_reviewers"] = json!(
            p.reviewers
                .iter()
                .map(|l| json!({"login": l, "id": 1, "type": "User"}))
                .collect::<Vec<_>>()
        );
        v
    }

    fn commit_json(&self, full: &str, sha: &str, c: &CommitObj) -> Value {
        let person =
            json!({"name": c.author, "email": "x@example.com", "date": "2026-11-27T12:00:00Z"});
        json!({
            "sha": sha,
            "node_id": format!("C_{sha}"),
            "url": format!("{}/git/commits/{sha}", self.base(full)),
            "html_url": format!("https://github.com/{full}/commit/{sha}"),
            "author": person,
            "committer": person,
            "tree": {"sha": c.tree, "url": format!("{}/git/trees/{}", self.base(full), c.tree)},
            "message": c.message,
            "parents": c.parents.iter().map(|p| json!({"sha": p, "url": format!("{}/git/commits/{p}", self.base(full)), "html_url": format!("https://github.com/{full}/commit/{p}")})).collect::<Vec<_>>(),
            "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null}
        })
    }

    fn ref_json(&self, full: &str, branch: &str, sha: &str) -> Value {
        json!({
            "ref": format!("refs/heads/{branch}"),
            "node_id": "REF_kwDOA",
            "url": format!("{}/git/refs/heads/{branch}", self.base(full)),
            "object": {"sha": sha, "type": "commit", "url": format!("{}/git/commits/{sha}", self.base(full))}
        })
    }

    fn content_entry(&self, full: &str, path: &str, content: &str, at: &str) -> Value {
        let name = path.rsplit('/').next().unwrap();
        let sha = blob_sha(content);
        json!({
            "type": "file", "size": content.len(), "name": name, "path": path, "sha": sha,
            "url": format!("{}/contents/{path}?ref={at}", self.base(full)),
            "git_url": format!("{}/git/blobs/{sha}", self.base(full)),
            "html_url": format!("https://github.com/{full}/blob/{at}/{path}"),
            "download_url": format!("https://raw.githubusercontent.com/{full}/{at}/{path}"),
            "_links": {"self": format!("{}/contents/{path}?ref={at}", self.base(full)), "git": format!("{}/git/blobs/{sha}", self.base(full)), "html": format!("https://github.com/{full}/blob/{at}/{path}")}
        })
    }

    /// Answers one request from (and into) the world.
    fn answer(&self, seen: &Seen) -> ResponseTemplate {
        let mut w = self.world();
        let path = seen.path.clone();
        let m = seen.method.as_str();
        if path == "/rate_limit" {
            let core = json!({"limit": 5000, "used": 1, "remaining": 4999, "reset": 1_900_000_000});
            return ok(json!({"resources": {"core": core, "search": core}, "rate": core}));
        }
        let Some(rest) = path.strip_prefix("/repos/") else {
            return not_found();
        };
        let mut parts = rest.splitn(3, '/');
        let full = format!(
            "{}/{}",
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("")
        );
        let sub = parts.next().unwrap_or("").to_owned();
        let Some(repo) = w.repos.get(&full).cloned() else {
            return not_found();
        };
        let (owner, _) = full.split_once('/').unwrap();
        match (m, sub.as_str()) {
            ("GET", "") => ok(self.repository(&full, &repo.default_branch)),
            ("GET", s) if s.starts_with("git/ref/heads/") => {
                let branch = &s["git/ref/heads/".len()..];
                match repo.refs.get(branch) {
                    Some(sha) => ok(self.ref_json(&full, branch, sha)),
                    None => not_found(),
                }
            }
            ("GET", s) if s.starts_with("git/commits/") => {
                let sha = &s["git/commits/".len()..];
                match repo.commits.get(sha) {
                    Some(c) => ok(self.commit_json(&full, sha, c)),
                    None => not_found(),
                }
            }
            ("GET", s) if s.starts_with("contents/") => {
                let p = &s["contents/".len()..];
                let at = seen
                    .query
                    .get("ref")
                    .cloned()
                    .unwrap_or(repo.default_branch.clone());
                let commit = repo.refs.get(&at).cloned().unwrap_or(at.clone());
                let Some(c) = repo.commits.get(&commit) else {
                    return not_found();
                };
                let tree = &repo.trees[&c.tree];
                if let Some(content) = tree.get(p) {
                    let mut v = self.content_entry(&full, p, content, &at);
                    let b64 = base64::engine::general_purpose::STANDARD.encode(content);
                    v["encoding"] = json!("base64");
                    v["content"] = json!(
                        b64.as_bytes()
                            .chunks(60)
                            .map(|c| std::str::from_utf8(c).unwrap())
                            .collect::<Vec<_>>()
                            .join("\n")
                    );
                    return ok(v);
                }
                let prefix = format!("{p}/");
                let listing: Vec<Value> = tree
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
                    .map(|(k, content)| self.content_entry(&full, k, content, &at))
                    .collect();
                if listing.is_empty() {
                    not_found()
                } else {
                    ok(json!(listing))
                }
            }
            ("GET", s) if s.starts_with("compare/") => {
                let (base, head) = s["compare/".len()..].split_once("...").unwrap();
                self.compare(&full, &repo, base, head)
            }
            ("GET", "pulls") => {
                let state = seen.query.get("state").cloned().unwrap_or("open".into());
                let head = seen.query.get("head").cloned();
                let list: Vec<Value> = repo
                    .pulls
                    .iter()
                    .filter(|p| state == "all" || p.state == state)
                    // Like GitHub: a `head` without `owner:` filters nothing.
                    .filter(|p| match head.as_deref().and_then(|h| h.split_once(':')) {
                        Some((o, b)) => o == owner && b == p.head,
                        None => true,
                    })
                    .map(|p| self.pull_json(&full, p, &repo))
                    .collect();
                ok(json!(list))
            }
            ("POST", "git/trees") => {
                let base = seen.body["base_tree"].as_str().unwrap_or("");
                let mut files = repo.trees.get(base).cloned().unwrap_or_default();
                for e in seen.body["tree"].as_array().unwrap() {
                    files.insert(
                        e["path"].as_str().unwrap().to_owned(),
                        e["content"].as_str().unwrap().to_owned(),
                    );
                }
                let r = w.repos.get_mut(&full).unwrap();
                let sha = r.put_tree(files.clone());
                let entries: Vec<Value> = files.iter().map(|(p, c)| json!({"path": p, "mode": "100644", "type": "blob", "size": c.len(), "sha": blob_sha(c), "url": "x"})).collect();
                created(
                    json!({"sha": sha, "url": format!("{}/git/trees/{sha}", self.base(&full)), "tree": entries, "truncated": false}),
                )
            }
            ("POST", "git/commits") => {
                let tree = seen.body["tree"].as_str().unwrap().to_owned();
                if !repo.trees.contains_key(&tree) {
                    return unprocessable("Tree SHA does not exist");
                }
                let n = w.next();
                let c = CommitObj {
                    tree,
                    parents: seen.body["parents"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_str().unwrap().to_owned())
                        .collect(),
                    message: seen.body["message"].as_str().unwrap().to_owned(),
                    author: "Scangate Bot".to_owned(),
                };
                let sha = hash(format!("commit {n} {} {}", c.tree, c.message).as_bytes());
                let v = self.commit_json(&full, &sha, &c);
                w.repos.get_mut(&full).unwrap().commits.insert(sha, c);
                created(v)
            }
            ("POST", "git/refs") => {
                let name = seen.body["ref"].as_str().unwrap();
                let sha = seen.body["sha"].as_str().unwrap().to_owned();
                let branch = name.strip_prefix("refs/heads/").unwrap().to_owned();
                if repo.refs.contains_key(&branch) {
                    return unprocessable("Reference already exists");
                }
                let v = self.ref_json(&full, &branch, &sha);
                w.repos.get_mut(&full).unwrap().refs.insert(branch, sha);
                created(v)
            }
            ("PATCH", s) if s.starts_with("git/refs/heads/") => {
                let branch = s["git/refs/heads/".len()..].to_owned();
                let sha = seen.body["sha"].as_str().unwrap().to_owned();
                let Some(old) = repo.refs.get(&branch) else {
                    return unprocessable("Reference does not exist");
                };
                let force = seen.body["force"].as_bool().unwrap_or(false);
                if !force && !repo.ancestry(&sha).contains(old) {
                    return unprocessable("Update is not a fast forward");
                }
                let v = self.ref_json(&full, &branch, &sha);
                w.repos.get_mut(&full).unwrap().refs.insert(branch, sha);
                ok(v)
            }
            ("POST", "pulls") => {
                let head = seen.body["head"].as_str().unwrap().to_owned();
                if !repo.refs.contains_key(&head) {
                    return unprocessable_field("head", "invalid");
                }
                if repo
                    .pulls
                    .iter()
                    .any(|p| p.head == head && p.state == "open")
                {
                    return unprocessable(&format!(
                        "A pull request already exists for {owner}:{head}."
                    ));
                }
                let p = PullObj {
                    number: repo.pulls.len() as u64 + 1,
                    head,
                    base: seen.body["base"].as_str().unwrap().to_owned(),
                    title: seen.body["title"].as_str().unwrap().to_owned(),
                    body: seen.body["body"].as_str().unwrap_or("").to_owned(),
                    state: "open".into(),
                    draft: seen.body["draft"].as_bool().unwrap_or(false),
                    labels: Vec::new(),
                    reviewers: Vec::new(),
                };
                let v = self.pull_json(&full, &p, &repo);
                w.repos.get_mut(&full).unwrap().pulls.push(p);
                created(v)
            }
            ("PATCH", s) if s.starts_with("pulls/") => {
                let n: u64 = s["pulls/".len()..].parse().unwrap();
                let r = w.repos.get_mut(&full).unwrap();
                let Some(p) = r.pulls.iter_mut().find(|p| p.number == n) else {
                    return not_found();
                };
                for (k, slot) in [
                    ("body", &mut p.body),
                    ("title", &mut p.title),
                    ("state", &mut p.state),
                ] {
                    if let Some(v) = seen.body[k].as_str() {
                        *slot = v.to_owned();
                    }
                }
                let p = p.clone();
                let r = w.repos[&full].clone();
                ok(self.pull_json(&full, &p, &r))
            }
            ("POST", s) if s.starts_with("issues/") && s.ends_with("/labels") => {
                let n: u64 = s["issues/".len()..s.len() - "/labels".len()]
                    .parse()
                    .unwrap();
                let r = w.repos.get_mut(&full).unwrap();
                let p = r.pulls.iter_mut().find(|p| p.number == n).unwrap();
                for l in seen.body["labels"].as_array().unwrap() {
                    let l = l.as_str().unwrap().to_owned();
                    if !p.labels.contains(&l) {
                        p.labels.push(l);
                    }
                }
                ok(json!(p.labels.iter().map(|l| label(l)).collect::<Vec<_>>()))
            }
            ("POST", s) if s.starts_with("pulls/") && s.ends_with("/requested_reviewers") => {
                let n: u64 = s["pulls/".len()..s.len() - "/requested_reviewers".len()]
                    .parse()
                    .unwrap();
                let mut reviewers = Vec::new();
                for l in seen.body["reviewers"].as_array().unwrap() {
                    let l = l.as_str().unwrap().to_owned();
                    if l == "nobody" {
                        return unprocessable(
                            "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the acme/svc repository.",
                        );
                    }
                    reviewers.push(l);
                }
                let r = w.repos.get_mut(&full).unwrap();
                let p = r.pulls.iter_mut().find(|p| p.number == n).unwrap();
                p.reviewers.extend(reviewers);
                let p = p.clone();
                let r = w.repos[&full].clone();
                created(self.pull_json(&full, &p, &r))
            }
            _ => not_found(),
        }
    }

    fn compare(&self, full: &str, repo: &RepoObj, base: &str, head: &str) -> ResponseTemplate {
        if !repo.commits.contains_key(base) || !repo.commits.contains_key(head) {
            return not_found();
        }
        let base_anc = repo.ancestry(base);
        let head_anc = repo.ancestry(head);
        let ahead: Vec<&String> = head_anc.iter().filter(|c| !base_anc.contains(c)).collect();
        let behind = base_anc.iter().filter(|c| !head_anc.contains(c)).count();
        let merge_base = head_anc.iter().find(|c| base_anc.contains(c)).unwrap();
        let old = repo.tree_of(merge_base);
        let new = repo.tree_of(head);
        let files: Vec<Value> = new
            .iter()
            .filter(|(p, c)| old.get(*p) != Some(c))
            .map(|(p, c)| json!({"sha": blob_sha(c), "filename": p, "status": if old.contains_key(p) {"modified"} else {"added"}, "additions": 1, "deletions": 0, "changes": 1, "blob_url": "x", "raw_url": "x", "contents_url": "x", "patch": "@@"}))
            .collect();
        let commits: Vec<Value> = ahead
            .iter()
            .rev()
            .map(|sha| {
                let c = &repo.commits[*sha];
                json!({"sha": sha, "node_id": "C", "commit": {"author": {"name": c.author, "email": "x@example.com", "date": "2026-11-27T12:00:00Z"}, "committer": {"name": "x", "email": "x@example.com", "date": "2026-11-27T12:00:00Z"}, "message": c.message, "tree": {"sha": c.tree, "url": "x"}, "url": "x", "comment_count": 0}, "url": "x", "html_url": "x", "author": null, "committer": null, "parents": c.parents.iter().map(|p| json!({"sha": p, "url": "x"})).collect::<Vec<_>>()})
            })
            .collect();
        let status = match (ahead.len(), behind) {
            (0, 0) => "identical",
            (_, 0) => "ahead",
            (0, _) => "behind",
            _ => "diverged",
        };
        ok(json!({
            "url": format!("{}/compare/{base}...{head}", self.base(full)),
            "html_url": format!("https://github.com/{full}/compare/{base}...{head}"),
            "base_commit": self.commit_json(full, base, &repo.commits[base]),
            "merge_base_commit": self.commit_json(full, merge_base, &repo.commits[merge_base]),
            "status": status, "ahead_by": ahead.len(), "behind_by": behind, "total_commits": ahead.len(),
            "commits": commits, "files": files
        }))
    }
}

fn label(name: &str) -> Value {
    json!({"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "url": format!("https://api.github.com/labels/{name}"), "name": name, "description": null, "color": "f29513", "default": false})
}

fn ok(v: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(v)
}

fn created(v: Value) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(v)
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}))
}

fn unprocessable(message: &str) -> ResponseTemplate {
    ResponseTemplate::new(422).set_body_json(json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": message}], "documentation_url": "https://docs.github.com/rest", "status": "422"}))
}

fn unprocessable_field(field: &str, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(422).set_body_json(json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": field, "code": code}], "documentation_url": "https://docs.github.com/rest", "status": "422"}))
}

impl Respond for Fake {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let seen = Seen {
            method: req.method.to_string(),
            path: req.url.path().to_owned(),
            query: req
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            body: serde_json::from_slice(&req.body).unwrap_or(Value::Null),
            at: Instant::now(),
        };
        self.world().seen.push(seen.clone());
        let (token, scopes) = {
            let w = self.world();
            (w.token.clone(), w.scopes.clone())
        };
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(format!("Bearer {token}").as_str()) {
            return ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}));
        }
        let fault = self.take_fault(&seen.method, &seen.path);
        let real = match &fault {
            Some(f) if !f.apply => None,
            _ => Some(self.answer(&seen)),
        };
        let mut response = match (fault, real) {
            (Some(f), _) => {
                let mut t = ResponseTemplate::new(f.status)
                    .set_body_json(f.body)
                    .set_delay(f.delay);
                for (k, v) in f.headers {
                    t = t.insert_header(k, v.as_str());
                }
                t
            }
            (None, Some(real)) => {
                let w = self.world();
                match w
                    .slow
                    .iter()
                    .find(|(suffix, _)| seen.path.ends_with(suffix.as_str()))
                {
                    Some((_, delay)) => real.set_delay(*delay),
                    None => real,
                }
            }
            (None, None) => unreachable!(),
        };
        if let Some(s) = scopes {
            response = response.insert_header("x-oauth-scopes", s.as_str());
        }
        response
    }
}
