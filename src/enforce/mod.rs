//! MFA enforced on an account: the policy applied (`apply`, for `policy --apply`) and the
//! proof that it bites (`proof`: the pre-test and the post-test, shared by `verify`,
//! `policy --apply` and `doctor`, each saying the verdict in its own words), and `verify`'s
//! steps, from the proof to a real launch and its terminate.

pub mod apply;
pub mod proof;
pub mod verify;

pub use proof::{ec2_with_session, ec2_without_mfa, post_test, pre_test};
