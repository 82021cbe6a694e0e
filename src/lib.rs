//! awsmfa: MFA-protected temporary AWS credentials, in one command.
//! Layers, top to bottom (data flows down, never up): `cli` → `commands` → `session`,
//! `mfa`, `profile` → `aws` → `files`, `output`, `clock`, `error`, `ui`.

pub mod aws;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod credentials;
pub mod ec2;
pub mod error;
pub mod files;
pub mod mfa;
pub mod output;
pub mod profile;
pub mod session;
pub mod ui;
