//! IAM's calls, typed: MFA devices (list, create, enable, delete), access keys (list,
//! create, delete), inline policies of users and groups, a user's groups, a role's maximum
//! session. Each answers `Call`: the value, or AWS's refusal for the caller to explain.

use super::{Call, ClientSpec, block_on, classify};
use crate::credentials::Secret;
use crate::error::{Error, Result};

/// The serials of the MFA devices of `user` (None: the caller).
pub fn list_mfa_devices(spec: &ClientSpec, user: Option<&str>) -> Result<Call<Vec<String>>> {
    let client = spec.iam();
    let answer = block_on(async { client.list_mfa_devices().set_user_name(user.map(str::to_string)).send().await })?;
    Ok(answer.map(|out| out.mfa_devices().iter().map(|d| d.serial_number().to_string()).collect()).map_err(classify))
}

/// A virtual device just created: its ARN and its seed (base32).
pub struct NewDevice {
    pub serial: String,
    pub seed: Secret,
}

pub fn create_virtual_mfa_device(spec: &ClientSpec, name: &str) -> Result<Call<NewDevice>> {
    let client = spec.iam();
    let out = match block_on(async { client.create_virtual_mfa_device().virtual_mfa_device_name(name).send().await })? {
        Ok(out) => out,
        Err(e) => return Ok(Err(classify(e))),
    };
    let device =
        out.virtual_mfa_device().ok_or_else(|| Error::unexpected("iam:CreateVirtualMFADevice returned no device"))?;
    let seed = device
        .base32_string_seed()
        .and_then(|b| String::from_utf8(b.as_ref().to_vec()).ok())
        .ok_or_else(|| Error::unexpected("iam:CreateVirtualMFADevice returned no seed"))?;
    Ok(Ok(NewDevice { serial: device.serial_number().to_string(), seed: Secret::new(seed) }))
}

pub fn enable_mfa_device(spec: &ClientSpec, user: &str, serial: &str, first: &str, second: &str) -> Result<Call<()>> {
    let client = spec.iam();
    let answer = block_on(async {
        client
            .enable_mfa_device()
            .user_name(user)
            .serial_number(serial)
            .authentication_code1(first)
            .authentication_code2(second)
            .send()
            .await
    })?;
    Ok(answer.map(|_| ()).map_err(classify))
}

pub fn delete_virtual_mfa_device(spec: &ClientSpec, serial: &str) -> Result<Call<()>> {
    let client = spec.iam();
    Ok(block_on(async { client.delete_virtual_mfa_device().serial_number(serial).send().await })?
        .map(|_| ())
        .map_err(classify))
}

/// One of the caller's access keys.
pub struct AccessKey {
    pub id: String,
    /// Unix seconds; 0 when AWS did not say.
    pub created: i64,
}

pub fn list_access_keys(spec: &ClientSpec) -> Result<Call<Vec<AccessKey>>> {
    let client = spec.iam();
    Ok(block_on(async { client.list_access_keys().send().await })?
        .map(|out| {
            out.access_key_metadata()
                .iter()
                .filter_map(|k| {
                    Some(AccessKey {
                        id: k.access_key_id()?.to_string(),
                        created: k.create_date().map(|d| d.secs()).unwrap_or(0),
                    })
                })
                .collect()
        })
        .map_err(classify))
}

/// A new access key of the caller: its id and secret.
pub fn create_access_key(spec: &ClientSpec) -> Result<Call<(String, Secret)>> {
    let client = spec.iam();
    let out = match block_on(async { client.create_access_key().send().await })? {
        Ok(out) => out,
        Err(e) => return Ok(Err(classify(e))),
    };
    let key = out.access_key().ok_or_else(|| Error::unexpected("iam:CreateAccessKey returned no key"))?;
    Ok(Ok((key.access_key_id().to_string(), Secret::new(key.secret_access_key()))))
}

pub fn delete_access_key(spec: &ClientSpec, id: &str) -> Result<Call<()>> {
    let client = spec.iam();
    Ok(block_on(async { client.delete_access_key().access_key_id(id).send().await })?.map(|_| ()).map_err(classify))
}

/// Whose inline policy: an IAM user's or an IAM group's.
pub enum PolicyHolder<'a> {
    User(&'a str),
    Group(&'a str),
}

/// The inline policy `name` of `holder`, as IAM stores it (URL-encoded JSON).
pub fn get_inline_policy(spec: &ClientSpec, holder: &PolicyHolder<'_>, name: &str) -> Result<Call<String>> {
    let client = spec.iam();
    Ok(match holder {
        PolicyHolder::User(user) => {
            block_on(async { client.get_user_policy().user_name(*user).policy_name(name).send().await })?
                .map(|o| o.policy_document().to_string())
                .map_err(classify)
        }
        PolicyHolder::Group(group) => {
            block_on(async { client.get_group_policy().group_name(*group).policy_name(name).send().await })?
                .map(|o| o.policy_document().to_string())
                .map_err(classify)
        }
    })
}

pub fn put_inline_policy(spec: &ClientSpec, holder: &PolicyHolder<'_>, name: &str, document: &str) -> Result<Call<()>> {
    let client = spec.iam();
    Ok(match holder {
        PolicyHolder::User(user) => block_on(async {
            client.put_user_policy().user_name(*user).policy_name(name).policy_document(document).send().await
        })?
        .map(|_| ())
        .map_err(classify),
        PolicyHolder::Group(group) => block_on(async {
            client.put_group_policy().group_name(*group).policy_name(name).policy_document(document).send().await
        })?
        .map(|_| ())
        .map_err(classify),
    })
}

/// The groups `user` is in.
pub fn list_groups_for_user(spec: &ClientSpec, user: &str) -> Result<Call<Vec<String>>> {
    let client = spec.iam();
    Ok(block_on(async { client.list_groups_for_user().user_name(user).send().await })?
        .map(|out| out.groups().iter().map(|g| g.group_name().to_string()).collect())
        .map_err(classify))
}

/// The role's MaxSessionDuration in seconds (None when IAM did not say).
pub fn role_max_session(spec: &ClientSpec, role_name: &str) -> Result<Call<Option<u64>>> {
    let client = spec.iam();
    Ok(block_on(async { client.get_role().role_name(role_name).send().await })?
        .map(|out| out.role().and_then(|r| r.max_session_duration()).map(|d| d as u64))
        .map_err(classify))
}
