//! The role chain of a profile: `role_arn` + `source_profile` followed down to the profile
//! with the long-term keys (or the console sign-in), as the AWS CLI follows it, then
//! `--role-arn` on top; a cycle or a missing source is a configuration error. Pure: it reads
//! only the settings' files, already in memory (table-tested in `profile`'s tests).

use super::{Overrides, RoleHop, Settings};
use crate::error::{Error, Result};

impl Settings {
    /// Follows `role_arn` + `source_profile` from the named profile down to the profile with
    /// the long-term keys, as the AWS CLI does; a cycle is a configuration error.
    pub(super) fn resolve_roles(&mut self, overrides: &Overrides) -> Result<()> {
        let mut hops = Vec::new();
        let mut current = self.profile.clone();
        let mut seen = vec![current.clone()];
        while let Some(role_arn) = self.value_in(&current, "role_arn") {
            hops.push(RoleHop {
                role_arn: role_arn.value,
                profile: current.clone(),
                external_id: self.value_in(&current, "external_id").map(|v| v.value),
                session_name: self.value_in(&current, "role_session_name").map(|v| v.value),
                duration: self.duration_in(&current)?,
            });
            let Some(source) = self.value_in(&current, "source_profile") else {
                let hint = if self.value_in(&current, "credential_source").is_some() {
                    "credential_source is not supported: name the profile with the long-term keys in source_profile"
                } else {
                    "add source_profile = NAME (the profile with the long-term keys)"
                };
                return Err(Error::config(format!("profile '{current}' has role_arn but no source_profile")).hint(hint));
            };
            if seen.contains(&source.value) {
                seen.push(source.value);
                return Err(Error::config(format!("source_profile cycle: {}", seen.join(" -> "))).hint(format!(
                    "make the chain end at a profile with long-term keys (see {})",
                    self.config_path.display()
                )));
            }
            seen.push(source.value.clone());
            current = source.value;
        }
        hops.reverse();
        if let Some(role_arn) = &overrides.role_arn {
            hops.push(RoleHop {
                role_arn: role_arn.clone(),
                profile: "--role-arn".into(),
                external_id: None,
                session_name: None,
                duration: None,
            });
        }
        self.direct = self.direct
            || self.value_in(&self.profile, "awsmfa_direct").is_some_and(|v| v.value.eq_ignore_ascii_case("true"));
        if self.direct && hops.is_empty() {
            return Err(Error::config("--direct needs a role: a profile with role_arn, or --role-arn"));
        }
        self.base_profile = current;
        self.lookup = seen;
        self.roles = hops;
        Ok(())
    }
}
