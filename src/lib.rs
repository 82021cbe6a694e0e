//! awsmfa: MFA-protected temporary AWS credentials, in one command.
//!
//! Layers, top to bottom; a module uses only modules below it (`tests/it/layers.rs` checks it):
//! `commands` → `cli` → `child` → `server` → `keys` → `doctor` → `enforce` → `output` → `profile` → `session` → `ec2` → `mfa` → `login` → `aws` → `keystore` → `config`
//! → `files` → `credentials` → `ui` → `clock` → `error` → `platform`.

pub mod aws;
pub mod child;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod credentials;
pub mod doctor;
pub mod ec2;
pub mod enforce;
pub mod error;
pub mod files;
pub mod keys;
pub mod keystore;
pub mod login;
pub mod mfa;
pub mod output;
pub mod platform;
pub mod profile;
pub mod server;
pub mod session;
pub mod ui;
