//! What awsmfa prints for machines: shell formats byte for byte like
//! `aws configure export-credentials`, the credential_process JSON, and the STS-shaped JSON
//! the manual recipe saved. Pure: returns strings; the caller writes them.

use clap::ValueEnum;

use crate::clock;
use crate::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `export AWS_ACCESS_KEY_ID=...` (bash, zsh, sh)
    Env,
    /// `AWS_ACCESS_KEY_ID=...` without export
    EnvNoExport,
    /// `set -gx AWS_ACCESS_KEY_ID "..."`
    Fish,
    /// `$Env:AWS_ACCESS_KEY_ID="..."`
    Powershell,
    /// `set AWS_ACCESS_KEY_ID=...`
    WindowsCmd,
    /// `AWS_ACCESS_KEY_ID=...` for .env files and `docker --env-file`
    Dotenv,
    /// `{"Credentials": {...}}` as `aws sts get-session-token` prints it
    Json,
}

fn line(format: Format, name: &str, value: &str) -> String {
    match format {
        Format::Env => format!("export {name}={value}\n"),
        Format::EnvNoExport | Format::Dotenv => format!("{name}={value}\n"),
        Format::Fish => format!("set -gx {name} \"{value}\"\n"),
        Format::Powershell => format!("$Env:{name}=\"{value}\"\n"),
        Format::WindowsCmd => format!("set {name}={value}\n"),
        Format::Json => unreachable!("json is not line-based"),
    }
}

/// The variables a shell or a child process gets, in the order the AWS CLI prints them.
pub fn variables<'a>(session: &'a Session, region: Option<&'a str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", session.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", session.secret_access_key.expose().to_string()),
        ("AWS_SESSION_TOKEN", session.session_token.expose().to_string()),
        ("AWS_CREDENTIAL_EXPIRATION", clock::iso_utc(session.expiration)),
    ];
    if let Some(region) = region {
        vars.push(("AWS_REGION", region.to_string()));
        vars.push(("AWS_DEFAULT_REGION", region.to_string()));
    }
    vars
}

/// The session in `format`; the region lines come last, after the four lines that match
/// `aws configure export-credentials` exactly.
pub fn render(format: Format, session: &Session, region: Option<&str>) -> String {
    if format == Format::Json {
        return sts_json(session);
    }
    variables(session, region).iter().map(|(name, value)| line(format, name, value)).collect()
}

fn quoted(value: &str) -> String {
    serde_json::to_string(value).expect("strings always serialize")
}

/// credential_process output (Version 1), laid out as `aws configure export-credentials`.
pub fn credential_process_json(session: &Session) -> String {
    format!(
        "{{\n  \"Version\": 1,\n  \"AccessKeyId\": {},\n  \"SecretAccessKey\": {},\n  \"SessionToken\": {},\n  \"Expiration\": {}\n}}\n",
        quoted(&session.access_key_id),
        quoted(session.secret_access_key.expose()),
        quoted(session.session_token.expose()),
        quoted(&clock::iso_utc(session.expiration)),
    )
}

/// The file the manual recipe saved with `aws sts get-session-token > file`.
pub fn sts_json(session: &Session) -> String {
    format!(
        "{{\n    \"Credentials\": {{\n        \"AccessKeyId\": {},\n        \"SecretAccessKey\": {},\n        \"SessionToken\": {},\n        \"Expiration\": {}\n    }}\n}}\n",
        quoted(&session.access_key_id),
        quoted(session.secret_access_key.expose()),
        quoted(session.session_token.expose()),
        quoted(&clock::iso_utc(session.expiration)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Secret;

    fn session() -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("s3cr/t+"),
            session_token: Secret::new("T0K=="),
            expiration: time::macros::datetime!(2026-11-29 12:00:00 UTC),
        }
    }

    #[test]
    fn env_matches_the_aws_cli() {
        assert_eq!(
            render(Format::Env, &session(), None),
            "export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nexport AWS_SECRET_ACCESS_KEY=s3cr/t+\nexport AWS_SESSION_TOKEN=T0K==\nexport AWS_CREDENTIAL_EXPIRATION=2026-11-29T12:00:00+00:00\n"
        );
    }

    #[test]
    fn every_shell_gets_its_own_syntax() {
        let s = session();
        assert!(render(Format::EnvNoExport, &s, None).starts_with("AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n"));
        assert!(render(Format::Fish, &s, None).starts_with("set -gx AWS_ACCESS_KEY_ID \"ASIAEXAMPLE\"\n"));
        assert!(render(Format::Powershell, &s, None).starts_with("$Env:AWS_ACCESS_KEY_ID=\"ASIAEXAMPLE\"\n"));
        assert!(render(Format::WindowsCmd, &s, None).starts_with("set AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n"));
        assert!(render(Format::Dotenv, &s, None).contains("AWS_SESSION_TOKEN=T0K==\n"));
    }

    #[test]
    fn a_known_region_comes_after_the_credentials() {
        let out = render(Format::Env, &session(), Some("eu-west-1"));
        assert!(out.ends_with(
            "AWS_CREDENTIAL_EXPIRATION=2026-11-29T12:00:00+00:00\nexport AWS_REGION=eu-west-1\nexport AWS_DEFAULT_REGION=eu-west-1\n"
        ));
    }

    #[test]
    fn credential_process_json_is_version_1() {
        let out = credential_process_json(&session());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["Version"], 1);
        assert_eq!(v["SecretAccessKey"], "s3cr/t+");
        assert_eq!(v["Expiration"], "2026-11-29T12:00:00+00:00");
        assert!(out.starts_with("{\n  \"Version\": 1,\n  \"AccessKeyId\": \"ASIAEXAMPLE\",\n"));
    }

    #[test]
    fn sts_json_has_the_recipe_shape() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json, &session(), Some("x"))).unwrap();
        assert_eq!(v["Credentials"]["AccessKeyId"], "ASIAEXAMPLE");
        assert_eq!(v["Credentials"]["SessionToken"], "T0K==");
        assert_eq!(v["Credentials"]["Expiration"], "2026-11-29T12:00:00+00:00");
    }
}
