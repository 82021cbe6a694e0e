//! awsmfa's integration tests, as one test binary: the AWS SDK is linked once for all of
//! them, not once per file. Each module is a story of one area; `common` is their support
//! (the emulator, a fixture user, a fresh HOME per test).

mod common;

mod attacks;
mod aws_cli_v2;
mod cli;
mod conformance;
mod console;
mod ec2;
mod handoff;
mod kept;
mod keys;
mod layers;
mod login;
mod newcomer;
mod roles;
mod server;
mod setup;
