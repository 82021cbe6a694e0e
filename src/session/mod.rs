//! Getting a `Session`: how (`sts`: GetSessionToken; `role`: AssumeRole), where it is kept
//! (`cache`), and the record of MFA codes already spent (`used_codes`). The credential types
//! themselves live in `credentials`, a leaf every layer may use.

pub mod cache;
pub mod role;
pub mod sts;
pub mod used_codes;

pub use crate::credentials::{KeyOrigin, LongTermKeys, Secret, Session, key_tail};
