//! The browser half of a console sign-in, where no SDK has code (aws-config and
//! aws-sdk-signin only refresh and exchange): PKCE (RFC 7636), the authorize URL as the AWS
//! CLI builds it, the loopback callback that receives the code (hyper, on 127.0.0.1 only,
//! one path, the `state` compared in constant time), and the code a person pastes from the
//! browser in the cross-device flow (`--remote`).

use std::convert::Infallible;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::credentials::Secret;
use crate::error::{Error, Kind, Result};

/// Where the browser is sent back to.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// One sign-in's secrets: the PKCE verifier and the `state` that ties the answer to it.
pub struct Pkce {
    pub verifier: Secret,
    pub state: String,
}

impl Pkce {
    /// A 64-character verifier from `[A-Za-z0-9-._~]` (the AWS CLI's) and a UUID state.
    pub fn new() -> Result<Pkce> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        let mut bytes = [0u8; 64];
        if !crate::platform::random_bytes(&mut bytes) {
            return Err(Error::unexpected("cannot read random bytes from the OS for the sign-in"));
        }
        // 256 is no multiple of the alphabet's 66: bytes from 198 up are drawn again, so
        // that every character is as likely.
        let mut verifier = String::with_capacity(64);
        let mut extra = [0u8; 1];
        for b in bytes {
            let mut b = b;
            while usize::from(b) >= 256 - 256 % ALPHABET.len() {
                if !crate::platform::random_bytes(&mut extra) {
                    return Err(Error::unexpected("cannot read random bytes from the OS for the sign-in"));
                }
                b = extra[0];
            }
            verifier.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
        }
        Ok(Pkce { verifier: Secret::new(verifier), state: super::dpop::uuid_v4()? })
    }

    /// base64url(SHA-256(verifier)) without padding (S256).
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.expose().as_bytes()))
    }
}

/// RFC 3986's unreserved characters stay; everything else is escaped (Python's `quote(safe='-_.~')`).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `{base}/v1/authorize?...` exactly as the AWS CLI sends it (its parameters, its order,
/// `code_challenge_method=SHA-256`).
pub fn authorize_url(base: &str, client_id: &str, pkce: &Pkce, redirect_uri: &str) -> String {
    let q = |v: &str| utf8_percent_encode(v, QUERY).to_string();
    format!(
        "{}/v1/authorize?response_type=code&client_id={}&state={}&code_challenge_method=SHA-256&scope=openid&redirect_uri={}&code_challenge={}",
        base.trim_end_matches('/'),
        q(client_id),
        q(&pkce.state),
        q(redirect_uri),
        pkce.challenge()
    )
}

/// The code pasted from the browser's confirmation page: base64 of `state=...&code=...`
/// (the AWS CLI's reading; url-safe and unpadded forms are taken too).
pub fn pasted_code(text: &str, state: &str) -> Result<Secret> {
    let text = text.trim();
    let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            Error::config("that is not the code the browser showed")
                .hint("copy the whole code from the sign-in page, then run the command again")
        })?;
    let (got_state, code) = query_pair(&decoded);
    let (Some(got_state), Some(code)) = (got_state, code) else {
        return Err(Error::config("that is not the code the browser showed")
            .hint("copy the whole code from the sign-in page, then run the command again"));
    };
    // The code of another sign-in (an older tab, another terminal's URL): no browser was
    // opened here, so the way out is this sign-in's URL.
    check_state(&got_state, state).map_err(|err| {
        err.hint("paste the code shown after signing in at the URL this command printed, then run it again")
    })?;
    Ok(Secret::new(code))
}

/// `state` and `code` of a query string.
fn query_pair(query: &str) -> (Option<String>, Option<String>) {
    let (mut state, mut code) = (None, None);
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned();
        match k {
            "state" => state = Some(v),
            "code" => code = Some(v),
            _ => {}
        }
    }
    (state, code)
}

fn check_state(got: &str, expected: &str) -> Result<()> {
    if got.as_bytes().ct_eq(expected.as_bytes()).into() {
        return Ok(());
    }
    Err(Error::new(Kind::Denied, "the sign-in's answer is not for this sign-in (its state does not match)")
        .hint("run the command again, and finish the sign-in in the browser it opens"))
}

/// The loopback listener the browser comes back to: 127.0.0.1 only, a port of the OS's choosing.
pub struct Callback {
    listener: std::net::TcpListener,
    pub redirect_uri: String,
}

impl Callback {
    pub fn bind() -> Result<Callback> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| {
            Error::unexpected(format!("cannot listen on 127.0.0.1 for the sign-in: {}", crate::error::io_reason(&e)))
        })?;
        let port =
            listener.local_addr().map_err(|e| Error::unexpected(format!("no port for the sign-in: {e}")))?.port();
        listener.set_nonblocking(true).map_err(|e| Error::unexpected(format!("cannot set up the sign-in: {e}")))?;
        Ok(Callback { listener, redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}") })
    }

    /// Waits (at most `wait`) for the browser to come back with the code for `state`. Other
    /// requests (another path, a wrong state, a favicon) are answered and waited past: a
    /// stray request must not end the sign-in, nor a forged one take its place.
    pub async fn code(self, state: &str, wait: Duration) -> Result<Secret> {
        let listener = tokio::net::TcpListener::from_std(self.listener)
            .map_err(|e| Error::unexpected(format!("cannot set up the sign-in: {e}")))?;
        let (found_tx, mut found_rx) = tokio::sync::mpsc::channel::<Result<Secret>>(1);
        let expected = state.to_string();
        let mut connections = tokio::task::JoinSet::new();
        let deadline = tokio::time::sleep(wait);
        tokio::pin!(deadline);
        let result = loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else {
                        // Out of file descriptors (or memory), accept fails again at once:
                        // a pause, as the credential server makes, instead of a loop at full CPU.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let (found, expected) = (found_tx.clone(), expected.clone());
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                            let (found, expected) = (found.clone(), expected.clone());
                            async move { Ok::<_, Infallible>(answer(&request, &expected, &found).await) }
                        });
                        // One request per connection: the page is sent and the connection
                        // closed, so the browser's answer is finished before awsmfa goes on.
                        let _ = hyper::server::conn::http1::Builder::new()
                            .timer(hyper_util::rt::TokioTimer::new())
                            .header_read_timeout(Duration::from_secs(10))
                            .keep_alive(false)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                found = found_rx.recv() => {
                    break found.unwrap_or_else(|| Err(Error::unexpected("the sign-in's listener stopped")));
                }
                _ = &mut deadline => {
                    break Err(Error::new(Kind::WaitEnded, format!(
                        "no answer from the browser within {}", crate::clock::human_duration(wait.as_secs() as i64)
                    )).hint("run the command again and finish the sign-in in the browser (or raise --timeout, or use --remote to paste a code)"));
                }
            }
        };
        // The browser's page ("Signed in", or why not) is on its way: let it arrive (a
        // stray connection holds this up two seconds at most), so that the person never sees
        // a reset connection where the answer should be.
        let _ =
            tokio::time::timeout(Duration::from_secs(2), async { while connections.join_next().await.is_some() {} })
                .await;
        result
    }
}

/// The page for one request to the callback; the code (or the sign-in's error) goes to `found`.
async fn answer(
    request: &Request<Incoming>,
    expected: &str,
    found: &tokio::sync::mpsc::Sender<Result<Secret>>,
) -> Response<Full<Bytes>> {
    let page = |status: StatusCode, text: &str| {
        let body = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>awsmfa</title></head><body><p>{text}</p></body></html>"
        );
        Response::builder()
            .status(status)
            .header("content-type", "text/html; charset=utf-8")
            .header("cache-control", "no-store")
            .body(Full::new(Bytes::from(body)))
            .expect("a valid response")
    };
    if request.method() != Method::GET || request.uri().path() != CALLBACK_PATH {
        return page(StatusCode::NOT_FOUND, "Not here.");
    }
    let query = request.uri().query().unwrap_or("");
    let error = query.split('&').find_map(|p| p.strip_prefix("error=")).map(|e| {
        percent_encoding::percent_decode_str(e)
            .decode_utf8_lossy()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>()
    });
    let (state, code) = query_pair(query);
    let Some(state) = state else {
        return page(StatusCode::BAD_REQUEST, "This is not an answer of the sign-in.");
    };
    if check_state(&state, expected).is_err() {
        return page(StatusCode::BAD_REQUEST, "This answer is not for the sign-in awsmfa is waiting for.");
    }
    if let Some(error) = error {
        let _ = found
            .send(Err(Error::new(Kind::Denied, format!("the sign-in was not completed: {error}"))
                .hint("run the command again and sign in in the browser")))
            .await;
        return page(StatusCode::OK, "The sign-in was not completed. You can close this window.");
    }
    let Some(code) = code.filter(|c| !c.is_empty()) else {
        return page(StatusCode::BAD_REQUEST, "This answer carries no code.");
    };
    let _ = found.send(Ok(Secret::new(code))).await;
    page(StatusCode::OK, "Signed in. You can close this window and return to the terminal.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636_s256() {
        let pkce = Pkce { verifier: Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), state: "s".into() };
        assert_eq!(pkce.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn a_verifier_is_64_characters_of_the_allowed_alphabet() {
        let pkce = Pkce::new().unwrap();
        let v = pkce.verifier.expose();
        assert_eq!(v.len(), 64);
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        assert_ne!(v, Pkce::new().unwrap().verifier.expose());
    }

    #[test]
    fn the_authorize_url_is_the_aws_clis() {
        let pkce = Pkce { verifier: Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), state: "6f1c".into() };
        let url = authorize_url(
            "https://us-east-1.signin.aws.amazon.com",
            "arn:aws:signin:::devtools/same-device",
            &pkce,
            "http://127.0.0.1:53219/oauth/callback",
        );
        assert_eq!(
            url,
            "https://us-east-1.signin.aws.amazon.com/v1/authorize?response_type=code&client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fsame-device&state=6f1c&code_challenge_method=SHA-256&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A53219%2Foauth%2Fcallback&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_pasted_code_is_read_as_the_aws_cli_reads_it_and_its_state_checked() {
        let pasted = STANDARD.encode("state=abc&code=the-code");
        assert_eq!(pasted_code(&pasted, "abc").unwrap().expose(), "the-code");
        assert_eq!(pasted_code(&URL_SAFE_NO_PAD.encode("state=abc&code=x"), "abc").unwrap().expose(), "x");
        let other = pasted_code(&pasted, "other").unwrap_err();
        assert_eq!(other.kind, Kind::Denied);
        assert!(!format!("{other:?}").contains("browser it opens"), "no browser was opened: {other:?}");
        assert_eq!(pasted_code("not base64 at all!", "abc").unwrap_err().kind, Kind::Config);
        assert_eq!(pasted_code(&STANDARD.encode("state=abc"), "abc").unwrap_err().kind, Kind::Config);
    }
}
