//! What awsmfa prints for machines: shell formats byte for byte like
//! `aws configure export-credentials`, the credential_process JSON, and the STS-shaped JSON
//! the manual recipe saved; the manual pages (`man`). Pure: returns strings; the caller
//! writes them.

pub mod man;
pub mod policy;
pub mod qr;
pub mod report;

use clap::ValueEnum;

use crate::clock;
use crate::credentials::Session;
use crate::error::{Error, Result};

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

/// Characters no shell gives a meaning to: values made of them alone (every credential
/// value: base64, ASCII key ids, ISO dates) are printed as the AWS CLI prints them.
fn plain(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"_@+=:,./-".contains(&b))
}

/// One assignment in `format`. A value with characters a shell would act on is quoted for
/// that shell, so `eval` runs nothing; where no quoting is safe (cmd's `%` and `!`, dotenv
/// readers that disagree on quotes) it is refused rather than printed.
fn line(format: Format, name: &str, value: &str) -> Result<String> {
    if value.chars().any(char::is_control) {
        return Err(unsafe_value(name, "it contains a control character (a newline would inject lines)"));
    }
    let plain = plain(value);
    // `env` and `env-no-export` are read by zsh too, which expands more than sh does.
    let sh_plain = plain && !zsh_expands(value);
    Ok(match format {
        Format::Env if sh_plain => format!("export {name}={value}\n"),
        Format::Env => format!("export {name}={}\n", posix_quote(value)),
        Format::EnvNoExport if sh_plain => format!("{name}={value}\n"),
        Format::EnvNoExport => format!("{name}={}\n", posix_quote(value)),
        Format::Fish if plain => format!("set -gx {name} \"{value}\"\n"),
        Format::Fish => format!("set -gx {name} '{}'\n", value.replace('\\', "\\\\").replace('\'', "\\'")),
        Format::Powershell if plain => format!("$Env:{name}=\"{value}\"\n"),
        // In single quotes PowerShell expands nothing; a quote (or a typographic one, which
        // PowerShell also takes for a quote) is doubled.
        Format::Powershell => {
            let mut quoted = String::with_capacity(value.len() + 2);
            for c in value.chars() {
                if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
                    quoted.push(c);
                }
                quoted.push(c);
            }
            format!("$Env:{name}='{quoted}'\n")
        }
        Format::WindowsCmd if plain => format!("set {name}={value}\n"),
        Format::WindowsCmd if value.contains(['"', '%', '!']) => {
            return Err(unsafe_value(name, "cmd.exe would expand its % or ! (or end the quotes at its \")"));
        }
        Format::WindowsCmd => format!("set \"{name}={value}\"\n"),
        Format::Dotenv if plain => format!("{name}={value}\n"),
        Format::Dotenv => return Err(unsafe_value(name, "dotenv readers disagree on how to quote it")),
        Format::Json => unreachable!("json is not line-based"),
    })
}

/// zsh replaces an unquoted `=cmd` with the command's path (its EQUALS option, on by
/// default): at the start of a word, and in an assignment's value after every `:` as well
/// (values are PATH-like lists there). `X==ls` sets X to `/usr/bin/ls`, and `X==nothing`
/// stops the `eval` with "nothing not found". Such values are quoted, which zsh leaves alone.
fn zsh_expands(value: &str) -> bool {
    value.starts_with('=') || value.contains(":=")
}

/// POSIX sh single quotes: nothing inside is special; a quote is closed, escaped, reopened.
fn posix_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

fn unsafe_value(name: &str, why: &str) -> Error {
    Error::config(format!("refusing to print {name}: {why}"))
        .hint("fix the value where it comes from (e.g. the region in the profile), or choose another --format")
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

/// Any variables in `format` (json: one object), each quoted for its shell.
pub fn render_variables(format: Format, variables: &[(&str, String)]) -> Result<String> {
    if format == Format::Json {
        let object: serde_json::Map<String, serde_json::Value> =
            variables.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone()))).collect();
        return Ok(format!("{}\n", serde_json::to_string_pretty(&object).expect("json")));
    }
    variables.iter().map(|(name, value)| line(format, name, value)).collect()
}

/// The session in `format`; the region lines come last, after the four lines that match
/// `aws configure export-credentials` exactly.
pub fn render(format: Format, session: &Session, region: Option<&str>) -> Result<String> {
    if format == Format::Json {
        return Ok(sts_json(session));
    }
    variables(session, region).iter().map(|(name, value)| line(format, name, value)).collect()
}

fn quoted(value: &str) -> String {
    serde_json::to_string(value).expect("strings always serialize")
}

/// The four credential values as JSON strings (key id, secret, token, expiry written by
/// `expiry`), for the three JSON layouts below, which differ only in their frame.
fn json_values(session: &Session, expiry: fn(time::OffsetDateTime) -> String) -> [String; 4] {
    [
        quoted(&session.access_key_id),
        quoted(session.secret_access_key.expose()),
        quoted(session.session_token.expose()),
        quoted(&expiry(session.expiration)),
    ]
}

/// credential_process output (Version 1), laid out as `aws configure export-credentials`.
pub fn credential_process_json(session: &Session) -> String {
    let [id, secret, token, expiry] = json_values(session, clock::iso_utc);
    format!(
        "{{\n  \"Version\": 1,\n  \"AccessKeyId\": {id},\n  \"SecretAccessKey\": {secret},\n  \"SessionToken\": {token},\n  \"Expiration\": {expiry}\n}}\n"
    )
}

/// The ECS container-credentials answer (the credential server's), `RoleArn` for roles.
pub fn container_credentials_json(session: &Session, role: Option<&str>) -> String {
    let [id, secret, token, expiry] = json_values(session, clock::iso_utc_z);
    let role = role.map(|r| format!(",\"RoleArn\":{}", quoted(r))).unwrap_or_default();
    format!("{{\"AccessKeyId\":{id},\"SecretAccessKey\":{secret},\"Token\":{token},\"Expiration\":{expiry}{role}}}")
}

/// The file the manual recipe saved with `aws sts get-session-token > file`.
pub fn sts_json(session: &Session) -> String {
    let [id, secret, token, expiry] = json_values(session, clock::iso_utc);
    format!(
        "{{\n    \"Credentials\": {{\n        \"AccessKeyId\": {id},\n        \"SecretAccessKey\": {secret},\n        \"SessionToken\": {token},\n        \"Expiration\": {expiry}\n    }}\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Secret;

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
            render(Format::Env, &session(), None).unwrap(),
            "export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nexport AWS_SECRET_ACCESS_KEY=s3cr/t+\nexport AWS_SESSION_TOKEN=T0K==\nexport AWS_CREDENTIAL_EXPIRATION=2026-11-29T12:00:00+00:00\n"
        );
    }

    #[test]
    fn every_shell_gets_its_own_syntax() {
        let s = session();
        assert!(render(Format::EnvNoExport, &s, None).unwrap().starts_with("AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n"));
        assert!(render(Format::Fish, &s, None).unwrap().starts_with("set -gx AWS_ACCESS_KEY_ID \"ASIAEXAMPLE\"\n"));
        assert!(render(Format::Powershell, &s, None).unwrap().starts_with("$Env:AWS_ACCESS_KEY_ID=\"ASIAEXAMPLE\"\n"));
        assert!(render(Format::WindowsCmd, &s, None).unwrap().starts_with("set AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n"));
        assert!(render(Format::Dotenv, &s, None).unwrap().contains("AWS_SESSION_TOKEN=T0K==\n"));
    }

    #[test]
    fn a_known_region_comes_after_the_credentials() {
        let out = render(Format::Env, &session(), Some("eu-west-1")).unwrap();
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
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json, &session(), Some("x")).unwrap()).unwrap();
        assert_eq!(v["Credentials"]["AccessKeyId"], "ASIAEXAMPLE");
        assert_eq!(v["Credentials"]["SessionToken"], "T0K==");
        assert_eq!(v["Credentials"]["Expiration"], "2026-11-29T12:00:00+00:00");
    }

    /// Runs `script` with `shell` and returns what it printed.
    fn run(shell: &str, script: &str) -> Option<String> {
        let out = std::process::Command::new(shell).arg("-c").arg(script).output().ok()?;
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    const HOSTILE: &[&str] = &[
        "eu-west-1; touch /tmp/awsmfa-pwned",
        "$(touch /tmp/awsmfa-pwned)",
        "`touch /tmp/awsmfa-pwned`",
        "a'b\"c$d\\e",
        "it’s ‘quoted’",
        "x & y | z > w",
    ];

    #[test]
    fn hostile_values_are_quoted_so_a_posix_shell_reads_them_back_literally() {
        for value in HOSTILE {
            for format in [Format::Env, Format::EnvNoExport] {
                let script = format!("{}printf %s \"$AWS_REGION\"", render(format, &session(), Some(value)).unwrap());
                assert_eq!(run("sh", &script).unwrap(), *value, "{format:?}");
            }
        }
    }

    #[test]
    fn values_zsh_would_expand_are_quoted_so_zsh_reads_them_back_literally() {
        // zsh is a test tool of the project (scripts/ensure-tools installs it).
        assert!(run("zsh", "true").is_some(), "zsh is needed for this test: run scripts/ensure-tools");
        for value in ["=ls", "=no-such-command", "a:=ls", "eu-west-1:=ls", "=", "x=ls"] {
            let mut s = session();
            s.session_token = Secret::new(value);
            for format in [Format::Env, Format::EnvNoExport] {
                let out = render(format, &s, Some(value)).unwrap();
                let script = format!("{out}printf '%s|%s' \"$AWS_SESSION_TOKEN\" \"$AWS_REGION\"");
                assert_eq!(run("zsh", &script).unwrap(), format!("{value}|{value}"), "{format:?}: {out}");
                assert_eq!(run("sh", &script).unwrap(), format!("{value}|{value}"), "{format:?}: {out}");
            }
        }
        // What the AWS CLI prints stays byte for byte the same: credential values never
        // start with `=` (base64 pads at the end) and hold no `:=`.
        assert!(render(Format::Env, &session(), None).unwrap().contains("export AWS_SESSION_TOKEN=T0K==\n"));
    }

    #[test]
    fn hostile_values_are_quoted_for_fish_and_powershell() {
        for value in HOSTILE {
            let fish = render(Format::Fish, &session(), Some(value)).unwrap();
            if let Some(got) = run("fish", &format!("{fish}printf %s \"$AWS_REGION\"")) {
                assert_eq!(got, *value);
            }
            let last = fish.lines().last().unwrap();
            assert!(last.starts_with("set -gx AWS_DEFAULT_REGION '"), "{last}");
            let ps = render(Format::Powershell, &session(), Some(value)).unwrap();
            let last = ps.lines().last().unwrap();
            let inner = last.strip_prefix("$Env:AWS_DEFAULT_REGION='").unwrap().strip_suffix('\'').unwrap();
            // Undoubling the quotes gives the value back: nothing ends the string early.
            let mut back = String::new();
            let mut chars = inner.chars().peekable();
            while let Some(c) = chars.next() {
                if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
                    assert_eq!(chars.next(), Some(c), "a lone quote in {last}");
                }
                back.push(c);
            }
            assert_eq!(back, *value);
        }
    }

    #[test]
    fn cmd_and_dotenv_refuse_what_they_cannot_hold_and_control_characters_are_refused_everywhere() {
        let cmd = render(Format::WindowsCmd, &session(), Some("x & y")).unwrap();
        assert!(cmd.ends_with("set \"AWS_DEFAULT_REGION=x & y\"\n"), "{cmd}");
        assert_eq!(render(Format::WindowsCmd, &session(), Some("%PATH%")).unwrap_err().exit_code(), 3);
        assert_eq!(render(Format::Dotenv, &session(), Some("a b")).unwrap_err().exit_code(), 3);
        for format in
            [Format::Env, Format::EnvNoExport, Format::Fish, Format::Powershell, Format::WindowsCmd, Format::Dotenv]
        {
            let err = render(format, &session(), Some("eu-west-1\nAWS_ACCESS_KEY_ID=evil")).unwrap_err();
            assert!(err.message.contains("control character"), "{format:?}: {}", err.message);
        }
    }
}
