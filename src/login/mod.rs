//! Console sign-in sessions (`aws login`, AWS CLI 2.32+): an IAM user or root signs in to
//! the AWS console in a browser, with any MFA the console takes (passkeys and security keys
//! included), and gets session credentials for 15 minutes at a time, refreshed for up to 12
//! hours, with no long-term key on disk. The profile names the session (`login_session =
//! ARN`); the session lives in the AWS CLI's cache file (`cache`), shared with the AWS CLI v2
//! and the SDKs that read it.
//!
//! `sign_in` is the whole sign-in (`awsmfa login --console`): PKCE and the browser
//! (`authorize`), the code exchanged with a DPoP proof (`dpop`, `aws::signin`), the file
//! written and the profile pointed at it. `refresh` renews a session's credentials.

pub mod authorize;
pub mod cache;
pub mod dpop;
pub mod kept;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::aws::{self, ClientConfig, ClientSpec, Failure, Retries, Signer};
use crate::clock;
use crate::credentials::Secret;
use crate::error::{Error, Kind, Result};
use crate::ui;

use cache::{AccessToken, LoginToken};
use dpop::DpopKey;

/// This layer's part of the plan, resolved by `profile`.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    /// How AWS Sign-In is reached (its endpoint override, the region, the CA bundle).
    pub client: &'a ClientConfig,
    /// Where sessions are kept (AWS_LOGIN_CACHE_DIRECTORY, else ~/.aws/login/cache); None
    /// when there is no home to find it in.
    pub cache: Option<&'a Path>,
    /// The profile asked for, and the one whose `login_session` names the session (the
    /// same, unless the first is a role profile): the hints say them.
    pub profile: &'a str,
    pub base_profile: &'a str,
    /// The session is kept in the keystore instead (`awsmfa_login_keystore` in the profile,
    /// `login --console --keystore`).
    pub kept: Option<kept::Kept<'a>>,
}

/// How a session's sign-in begins.
pub enum Flow {
    /// The browser on this machine comes back to a loopback listener.
    SameDevice,
    /// The browser is elsewhere: it shows a code that is pasted here (SSH hosts).
    CrossDevice,
}

/// A console sign-in made.
pub struct SignedIn {
    pub arn: String,
    /// Where the session is kept, for people: its file, or the keystore.
    pub place: String,
    /// Its first credentials.
    pub session: crate::credentials::Session,
    /// When the credentials end (15 minutes), and when the session can no longer be renewed.
    pub expires: time::OffsetDateTime,
    pub renewable_until: Option<time::OffsetDateTime>,
}

/// How long AWS renews a console sign-in session after the sign-in.
pub const SESSION_LIMIT: time::Duration = time::Duration::hours(12);

/// The sign-in base URL for the settings: the `signin` endpoint override (AWS_ENDPOINT_URL_SIGNIN,
/// AWS_ENDPOINT_URL, endpoint_url), else AWS Sign-In's host of the region's partition.
pub fn base_url(client: &ClientConfig) -> String {
    if let Some(url) = client.endpoint("signin") {
        return url.trim_end_matches('/').to_string();
    }
    let region = aws::region(client);
    let suffix = if region.starts_with("cn-") {
        "signin.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "signin.amazonaws-us-gov.com"
    } else {
        "signin.aws.amazon.com"
    };
    format!("https://{region}.{suffix}")
}

/// Where console sign-in sessions are kept, or why there is no such place.
pub fn cache_dir(plan: &Plan) -> Result<PathBuf> {
    plan.cache.map(Path::to_path_buf).ok_or_else(|| {
        Error::config("no place for console sign-in sessions: HOME is not set")
            .hint("set HOME, or AWS_LOGIN_CACHE_DIRECTORY")
    })
}

/// Signs in (the browser, the code, the exchange), writes the session's file, and returns it.
/// `open` opens the URL in a browser; the URL is always said too.
/// `wait` bounds the person's part: the browser's answer, or the pasted code.
pub fn sign_in(plan: &Plan, flow: &Flow, wait: std::time::Duration, open: &dyn Fn(&str) -> bool) -> Result<SignedIn> {
    // Before the browser: a place that cannot keep the session is said now.
    let home = match &plan.kept {
        None => {
            let dir = cache_dir(plan)?;
            cache::prepare_dir(&dir)?;
            Home::File(dir)
        }
        Some(kept) => {
            // Its passphrase too: without it (no terminal, a wrong one) the session made
            // would be lost.
            kept.keystore().open()?;
            Home::Kept(kept)
        }
    };
    let spec = ClientSpec::new(plan.client, "signin", Signer::Unsigned, Retries::Never)?;
    let base = base_url(plan.client);
    let pkce = authorize::Pkce::new()?;
    let key = Arc::new(DpopKey::generate()?);
    let (client_id, redirect_uri, code) = match flow {
        Flow::SameDevice => {
            let callback = authorize::Callback::bind()?;
            let redirect_uri = callback.redirect_uri.clone();
            let url = authorize::authorize_url(&base, aws::signin::SAME_DEVICE, &pkce, &redirect_uri);
            if open(&url) {
                ui::note(&format!("Sign in in the browser that opened; if none did, open:\n  {url}"));
            } else {
                ui::note(&format!("Open this URL in a browser on this machine to sign in:\n  {url}"));
            }
            ui::note("(or run `awsmfa login --console --remote` to sign in from another device)");
            let code = aws::block_on(callback.code(&pkce.state, wait))??;
            (aws::signin::SAME_DEVICE, redirect_uri, code)
        }
        Flow::CrossDevice => {
            let redirect_uri = format!("{base}/v1/sessions/confirmation");
            let url = authorize::authorize_url(&base, aws::signin::CROSS_DEVICE, &pkce, &redirect_uri);
            ui::note(&format!("Open this URL in a browser on any device and sign in:\n  {url}"));
            let pasted =
                crate::ui::term::line_within("Enter the authorization code displayed in your browser: ", wait)?
                    .ok_or_else(|| {
                        Error::new(
                            Kind::WaitEnded,
                            format!("no code pasted within {}", crate::clock::human_duration(wait.as_secs() as i64)),
                        )
                        .hint("run the command again and paste the code the browser shows (or raise --timeout)")
                    })?;
            (aws::signin::CROSS_DEVICE, redirect_uri, authorize::pasted_code(&pasted, &pkce.state)?)
        }
    };
    let proof = proof_of(&key);
    let token =
        aws::signin::exchange_code(&spec, client_id, code.expose(), pkce.verifier.expose(), &redirect_uri, proof)?
            .map_err(|failure| {
                // The command to run again is this one, for this profile (a bare `awsmfa
                // login --console` would sign in the default profile instead).
                let remote = if matches!(flow, Flow::CrossDevice) { " --remote" } else { "" };
                let again = format!("run `awsmfa login --console{remote} --profile {}` again", plan.profile);
                explain(failure, &spec, None, again, "signin:CreateOAuth2Token")
            })?;
    let id = token
        .id_token
        .as_deref()
        .and_then(cache::IdToken::parse)
        .ok_or_else(|| Error::unexpected("AWS Sign-In's answer names no session (its idToken has no subject)"))?;
    let now = clock::now();
    let expires = now + time::Duration::seconds(token.expires_in);
    let record = LoginToken {
        access_token: AccessToken {
            access_key_id: token.access_key_id,
            secret_access_key: token.secret_access_key.expose().to_string(),
            session_token: token.session_token.expose().to_string(),
            account_id: id.account().unwrap_or_default().to_string(),
            expires_at: clock::iso_utc_z(expires),
        },
        token_type: "aws_sigv4".into(),
        client_id: client_id.to_string(),
        refresh_token: token.refresh_token.expose().to_string(),
        id_token: token.id_token.clone(),
        dpop_key: key.to_pem()?.expose().to_string(),
        extra: Default::default(),
    };
    // Under the renewals' lock: a renewal of this session's previous sign-in, in flight,
    // would otherwise write the old session over the one just made.
    let waiting = || ui::note("waiting for a renewal of the previous session to finish");
    let lock = match &home {
        Home::File(dir) => {
            crate::files::lock::acquire(&cache::lock_path(dir, &id.subject), crate::files::lock::wait(), waiting)
        }
        Home::Kept(kept) => kept.lock(&id.subject, waiting),
    };
    if let Err(err) = &lock {
        // The sign-in is made and its code spent: kept all the same, rather than lost.
        ui::warn(&format!("writing the session without its lock: {}", err.message));
    }
    let place = match &home {
        Home::File(dir) => cache::store(dir, &id.subject, &record)?.display().to_string(),
        Home::Kept(kept) => {
            let keystore = kept.keystore();
            kept::store(&keystore, &id.subject, &record)?;
            keystore.describe()
        }
    };
    drop(lock);
    let renewable_until = renewable_until(&record);
    Ok(SignedIn { arn: id.subject, place, session: record.session()?, expires, renewable_until })
}

/// Where a sign-in keeps its session: the AWS CLI's file in this directory, or the keystore.
enum Home<'a> {
    File(PathBuf),
    Kept(&'a kept::Kept<'a>),
}

/// Until when AWS renews the session: 12 hours after its sign-in (the idToken's `iat`).
pub fn renewable_until(token: &LoginToken) -> Option<time::OffsetDateTime> {
    let iat = token.identity()?.issued_at?;
    time::OffsetDateTime::from_unix_timestamp(iat).ok().map(|t| t + SESSION_LIMIT)
}

/// The session's credentials renewed (its file rewritten with them and the new refresh token).
pub fn refresh(plan: &Plan, arn: &str, token: &LoginToken) -> Result<LoginToken> {
    let dir = cache_dir(plan)?;
    // Before the refresh: its token is good once, and a renewal that cannot be written
    // would lose the session.
    cache::prepare_dir(&dir)?;
    let renewed = renew(plan, arn, token, &cache::path(&dir, arn).display().to_string())?;
    cache::store(&dir, arn, &renewed)?;
    Ok(renewed)
}

/// The session's credentials renewed through AWS Sign-In, not yet stored anywhere: the
/// caller keeps the result (its refresh token replaces the one spent). `place` is where the
/// session is kept, for the error of a damaged key.
pub fn renew(plan: &Plan, arn: &str, token: &LoginToken, place: &str) -> Result<LoginToken> {
    // The sign-in that replaces the session where it is kept (a plain one is refused while
    // the keystore keeps it).
    let keystore = if plan.kept.is_some() { " --keystore" } else { "" };
    let sign_in = format!("awsmfa login --console{keystore} --profile {}", plan.base_profile);
    let key = Arc::new(DpopKey::from_pem(&token.dpop_key).map_err(|err| {
        Error::new(err.kind, format!("{} in {place}", err.message))
            .hint(format!("sign in again (the session cannot be renewed without its key): `{sign_in}`"))
    })?);
    // A refresh carries no code: the SDK's retries are safe (AWS Sign-In answers a repeated
    // refresh consistently).
    let spec = ClientSpec::new(plan.client, "signin", Signer::Unsigned, Retries::Standard)?;
    ui::trace(&format!("signin:CreateOAuth2Token (refresh) for {arn} at {}", base_url(plan.client)));
    let fresh = aws::signin::refresh(&spec, &token.client_id, &Secret::new(&token.refresh_token), proof_of(&key))?
        .map_err(|failure| {
            explain(failure, &spec, Some(arn), format!("sign in again: `{sign_in}`"), "signin:CreateOAuth2Token")
        })?;
    let mut renewed = token.clone();
    renewed.access_token.access_key_id = fresh.access_key_id;
    renewed.access_token.secret_access_key = fresh.secret_access_key.expose().to_string();
    renewed.access_token.session_token = fresh.session_token.expose().to_string();
    renewed.access_token.expires_at = clock::iso_utc_z(clock::now() + time::Duration::seconds(fresh.expires_in));
    renewed.refresh_token = fresh.refresh_token.expose().to_string();
    Ok(renewed)
}

/// A DPoP proof maker for `key`: a new proof (time, unique id) for each request.
fn proof_of(key: &Arc<DpopKey>) -> aws::signin::Proof {
    let key = key.clone();
    Arc::new(move |url: &str| {
        let jti = dpop::uuid_v4().unwrap_or_else(|_| format!("{}", clock::now().unix_timestamp_nanos()));
        key.proof(url, clock::now().unix_timestamp(), &jti)
    })
}

/// AWS Sign-In's refusals, in words that say what to do.
/// `session`: the session renewed (None: a sign-in); `again`: what to run to start over.
fn explain(failure: Failure, spec: &ClientSpec, session: Option<&str>, again: String, action: &str) -> Error {
    let whose = session.map(|arn| format!(" of {arn}")).unwrap_or_default();
    match &failure {
        Failure::Service { code, .. } if code == "TOKEN_EXPIRED" => Error::new(
            Kind::Denied,
            format!("the console sign-in session{whose} has ended (AWS renews one for 12 hours after the sign-in)"),
        )
        .hint(again),
        Failure::Service { code, .. } if code == "USER_CREDENTIALS_CHANGED" => {
            Error::new(Kind::Denied, format!("the console sign-in session{whose} ended because the password changed"))
                .hint(again)
        }
        Failure::Service { code, .. } if code == "AUTHCODE_EXPIRED" => {
            Error::new(Kind::Denied, "the sign-in's code expired before it was exchanged").hint(again)
        }
        Failure::Service { code, .. } if code == "INSUFFICIENT_PERMISSIONS" => {
            let who = session.map(|arn| format!(" ({arn})")).unwrap_or_default();
            Error::denied(format!(
                "this identity{who} may not use console sign-in sessions: signin:CreateOAuth2Token is not allowed"
            ))
            .hint("allow it for the IAM user (the AWS managed policy SignInLocalDevelopmentAccess; root needs none), and remove any policy that denies signin:*")
        }
        _ => failure.into_error(action, &spec.describe_endpoint("signin")),
    }
}
