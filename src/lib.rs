//! scangate puts a Trivy gate between building and pushing container images
//! in GitHub Actions workflows.
//!
//! The library is the pipeline, one module per stage:
//! [`source`] (read) → [`locate`] / [`layout`] (where things are in the text)
//! → [`detect`] (which jobs push unscanned; each [`shape`] reads its own) → [`plan`] (what the new jobs
//! are) → [`render`] (their text, in the file's style) → [`splice`] (into the
//! original) → [`verify`] (prove it) → [`report`] (diffs, JSON). [`migrate`]
//! runs one file through it in memory; [`files`] is the only module that
//! touches the disk. [`check`] proves afterwards that the gate still holds;
//! [`pr`] opens the migration as pull requests across repositories;
//! [`github`] is the one API client they and `admission` use.
//!
//! Lower modules never import higher ones (`tests/architecture.rs` proves
//! there is no import circle): [`error`] and [`policy`] are at the bottom,
//! [`gate`] reads workflows under the policy, the stages follow in order,
//! and the commands sit on top. The command line itself is the binary's
//! (`src/main.rs`, `src/cli/`).

pub mod admission;
pub mod check;
pub mod config;
pub mod detect;
pub mod error;
pub mod expressions;
pub mod files;
pub mod gate;
pub mod github;
pub mod layout;
pub mod locate;
pub mod metrics;
pub mod migrate;
pub mod pins;
pub mod plan;
pub mod policy;
pub mod pr;
pub mod render;
pub mod report;
pub mod runner;
pub mod shape;
pub mod signing;
pub mod source;
pub mod splice;
pub mod style;
pub mod verify;

pub use error::{Error, Location, Refusal};
pub use migrate::{Migrator, Outcome};
pub use source::Source;
