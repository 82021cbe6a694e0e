//! The manual pages, rendered from the command definitions themselves (clap_mangen), with
//! the sections clap knows nothing of: EXIT STATUS, ENVIRONMENT and FILES on awsmfa(1), SEE
//! ALSO on every page. One page a command (awsmfa-login.1, awsmfa-keys-import.1, ...): every
//! awsmfa-X(1) a page names is one of them. Pure: the command tree in, roff out.

use clap_mangen::roff::{Roff, bold, roman};

use crate::error::{Error, Result};

/// (code, meaning), as README's "Exit codes".
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    ("1", "Unexpected failure; for status --check: no valid session."),
    ("2", "Usage: an unknown command or flag, or a malformed flag value."),
    (
        "3",
        "Configuration or bad input: a value out of its range, a variable awsmfa reads that is not UTF-8, a file awsmfa refuses.",
    ),
    ("4", "MFA rejected: a wrong, reused or expired code, or a wrong serial."),
    ("5", "AWS denied the request."),
    ("6", "AWS unreachable, or no answer in time."),
    ("7", "A wait (launch --wait, terminate --wait) ended without the state."),
    ("8", "doctor: a check failed."),
    ("10", "verify: MFA is NOT enforced (long-term keys may launch instances)."),
    ("130", "Interrupted (Ctrl-C); enroll says what it kept or deleted."),
    ("other", "exec exits with the command's own code (126: it cannot be run, 127: it is not found)."),
];

/// (variables, meaning): every variable awsmfa reads that a user may set.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("AWS_PROFILE, AWS_DEFAULT_PROFILE", "The profile, as --profile (default: default)."),
    ("AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE", "The AWS files (default: ~/.aws/config, ~/.aws/credentials)."),
    ("AWS_REGION, AWS_DEFAULT_REGION", "The region, as --region (else the profile's region)."),
    (
        "AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_SIGNIN",
        "Endpoints for every service, or for one (the profile's endpoint_url and services as in the AWS CLI).",
    ),
    ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true: ignore every configured endpoint URL."),
    ("AWS_CA_BUNDLE", "A PEM file of certificate authorities to trust (a TLS-inspecting proxy, a private endpoint)."),
    (
        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY",
        "Long-term keys, used when no profile is named and the AWS files have none.",
    ),
    ("AWS_SESSION_TOKEN, AWS_SECURITY_TOKEN", "Keys that carry a session token are refused as long-term keys."),
    (
        "AWS_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "Credentials an SDK would take before awsmfa's endpoint: serve warns about them, exec --server takes them out.",
    ),
    ("AWS_MFA_SERIAL_NUMBER", "The MFA device, as --serial (the manual recipe's variable)."),
    ("AWS_MFA_TOKEN_CODE", "The MFA code, as --code (the manual recipe's variable)."),
    ("AWSMFA_TOTP_SECRET", "A base32 TOTP seed: codes computed by awsmfa, for automation. Never passed on by exec."),
    ("AWS_IMAGE_ID", "The AMI of verify, launch and doctor's policy check, as --image-id."),
    ("AWSMFA_KEY_NAME, SENZING_AWS_KEYPAIR", "The EC2 key pair of launch, as --key-name."),
    ("AWSMFA_CACHE_DIR", "The cache directory (default: ~/.aws/awsmfa)."),
    ("AWSMFA_MIN_TTL", "Reuse a cached session only while it has more than this left, as --min-ttl (default: 5m)."),
    ("AWSMFA_LOCK_TIMEOUT", "How long to wait for another awsmfa holding a lock, in seconds."),
    ("AWSMFA_POLL_SECONDS", "How often the instance waits ask EC2, in seconds."),
    ("AWSMFA_KEYSTORE", "keychain or file: where awsmfa keys stores new keys, as --keystore."),
    ("AWSMFA_KEYSTORE_FILE", "The file keystore (default: ~/.aws/awsmfa-keys.age)."),
    (
        "AWSMFA_KEYSTORE_PASSPHRASE",
        "The file keystore's passphrase (else asked on the terminal). Never passed on by exec.",
    ),
    ("AWSMFA_PROFILE", "Set by exec for its command: the profile whose session it runs with."),
    ("AWSMFA_SERIAL", "Set for mfa_process: the MFA device it is asked a code for."),
    (
        "AWS_LOGIN_CACHE_DIRECTORY",
        "Console sign-in sessions (default: ~/.aws/login/cache), as the AWS CLI's aws login.",
    ),
    ("BROWSER", "The browser login --console opens (else the system's default)."),
    (
        "DBUS_SESSION_BUS_ADDRESS",
        "A desktop session: the keychain (Secret Service) is the default keystore when it is set.",
    ),
    ("HOME (USERPROFILE on Windows)", "Where ~/.aws is."),
    ("NO_COLOR", "No colour on the terminal (as TERM=dumb)."),
];

const FILES: &[(&str, &str)] = &[
    (
        "~/.aws/config",
        "Profiles: mfa_serial, region, role_arn, source_profile, credential_process, mfa_process, duration_seconds, ...",
    ),
    (
        "~/.aws/credentials",
        "Long-term keys ([NAME-long-term] or [NAME]); login --write-profile writes a session into it.",
    ),
    (
        "~/.aws/awsmfa/",
        "The cache: MFA and role sessions (0600), the MFA codes already sent, locks, key rotation journals.",
    ),
    ("~/.aws/awsmfa-keys.age", "The file keystore of awsmfa keys (age, encrypted with a passphrase)."),
    ("~/.aws/login/cache/", "Console sign-in sessions (login --console), shared with the AWS CLI."),
];

/// Every page as (file name, roff): awsmfa.1 first, then one a command, depth first.
pub fn pages(top: clap::Command) -> Result<Vec<(String, Vec<u8>)>> {
    fn no_help(cmd: clap::Command) -> clap::Command {
        cmd.disable_help_subcommand(true).mut_subcommands(no_help)
    }
    let mut top = no_help(top);
    top.build();
    let mut pages = Vec::new();
    walk(&top, None, &mut pages)?;
    Ok(pages)
}

fn walk(cmd: &clap::Command, parent: Option<&str>, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let source = format!("awsmfa {}", env!("CARGO_PKG_VERSION"));
    let man = clap_mangen::Man::new(cmd.clone()).source(source).manual("awsmfa manual");
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let mut page = Vec::new();
    man.render(&mut page).map_err(|e| Error::unexpected(format!("cannot render the man page {name}: {e}")))?;
    let mut roff = Roff::default();
    if parent.is_none() {
        list_section(&mut roff, "EXIT STATUS", EXIT_STATUS);
        list_section(&mut roff, "ENVIRONMENT", ENVIRONMENT);
        list_section(&mut roff, "FILES", FILES);
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut see = Vec::new();
    if parent.is_some() {
        see.push("awsmfa(1)".to_string());
    }
    if let Some(p) = parent.filter(|p| *p != "awsmfa") {
        see.push(format!("{p}(1)"));
    }
    if !see.is_empty() {
        roff.text([roman(see.join(", "))]);
    }
    if parent.is_none() {
        roff.text([roman(
            "The exit status, environment and files of every command are those above. README.md (in /usr/share/doc/awsmfa) has the how-to.",
        )]);
    }
    // Each rendering starts with the same preamble (how apostrophes print): keep the first.
    let extra = roff.render();
    let preamble = Roff::new().render();
    page.extend(extra.strip_prefix(preamble.as_str()).unwrap_or(&extra).as_bytes());
    pages.push((format!("{name}.1"), page));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        walk(sub, Some(&name), pages)?;
    }
    Ok(())
}

fn list_section(roff: &mut Roff, title: &str, items: &[(&str, &str)]) {
    roff.control("SH", [title]);
    for (term, text) in items {
        roff.control("TP", []);
        roff.text([bold(*term)]);
        roff.text([roman(*text)]);
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn pages() -> Result<Vec<(String, Vec<u8>)>> {
        super::pages(crate::cli::Cli::command())
    }

    /// The names a page refers to as awsmfa-X(1) or awsmfa(1).
    fn references(page: &str) -> Vec<String> {
        // roff writes a hyphen as \-.
        let page = page.replace("\\-", "-");
        let mut found = Vec::new();
        for (at, _) in page.match_indices("awsmfa") {
            let rest = &page[at..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            if rest[name.len()..].starts_with("(1)") {
                found.push(name);
            }
        }
        found
    }

    fn text(pages: &[(String, Vec<u8>)], name: &str) -> String {
        let (_, page) = pages.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no page {name}"));
        String::from_utf8(page.clone()).unwrap()
    }

    #[test]
    fn every_command_has_a_page_and_every_page_named_exists() {
        let pages = pages().unwrap();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for expected in ["awsmfa.1", "awsmfa-login.1", "awsmfa-keys.1", "awsmfa-keys-import.1", "awsmfa-man.1"] {
            assert!(names.contains(&expected), "{expected} missing from {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "no page for clap's help: {names:?}");
        for (name, page) in &pages {
            let page = String::from_utf8(page.clone()).unwrap();
            for reference in references(&page) {
                assert!(
                    names.contains(&format!("{reference}.1").as_str()),
                    "{name} names {reference}(1), which is no page"
                );
            }
        }
        assert!(references(&text(&pages, "awsmfa.1")).contains(&"awsmfa-login".to_string()));
        assert!(references(&text(&pages, "awsmfa-keys-import.1")).contains(&"awsmfa-keys".to_string()));
    }

    #[test]
    fn the_top_page_has_exit_status_environment_and_files() {
        let pages = pages().unwrap();
        let top = text(&pages, "awsmfa.1");
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "SUBCOMMANDS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "SEE ALSO",
        ] {
            assert!(
                top.contains(&format!(".SH \"{section}\"")) || top.contains(&format!(".SH {section}\n")),
                "no {section}:\n{top}"
            );
        }
        for code in ["0", "2", "3", "4", "5", "6", "7", "8", "10", "130"] {
            assert!(EXIT_STATUS.iter().any(|(c, _)| *c == code), "exit code {code} undocumented");
        }
    }

    #[test]
    fn the_environment_section_names_every_variable_a_user_sets() {
        let top = text(&pages().unwrap(), "awsmfa.1");
        let environment = top.split(".SH ENVIRONMENT").nth(1).unwrap().split(".SH FILES").next().unwrap();
        // HOMEDRIVE and HOMEPATH are Windows' fallbacks of USERPROFILE; the test clock is the tests'.
        let unlisted = ["HOMEDRIVE", "HOMEPATH", crate::clock::TEST_CLOCK_VARIABLE];
        for name in crate::profile::variable_names().filter(|n| !unlisted.contains(n)) {
            // roff escapes '-' but not '_': the names appear as they are.
            assert!(environment.contains(name), "ENVIRONMENT lacks {name}");
        }
    }
}
