//! A local credential endpoint in the ECS container-credentials protocol, which every AWS
//! SDK polls on its own when its credentials near their end (`AWS_CONTAINER_CREDENTIALS_
//! FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`): long jobs outlive the session they
//! started with. hyper serves HTTP/1.1 on loopback; each request is checked (one path, GET
//! only, a 256-bit token compared in constant time, bounded headers, a read timeout) before
//! the credentials are asked of `Credentials`, which renews them once for any number of
//! concurrent requests. Credentials are never logged; `-v` logs status and latency only.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use subtle::ConstantTimeEq;

use crate::clock;
use crate::credentials::{Secret, Session};
use crate::error::{Error, Result};
use crate::output;
use crate::ui;

/// The one path served.
pub const PATH: &str = "/credentials";
/// A client has this long to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Request headers larger than this are refused (hyper's smallest buffer).
pub const MAX_HEADER_BYTES: usize = 8192;

/// Where credentials come from: called on a thread of its own (it may block on STS, a lock
/// or a prompt), under a lock, so concurrent requests share one renewal. Returns the
/// session (and the role ARN, for roles).
pub type Source = dyn Fn() -> Result<(Session, Option<String>)> + Send + Sync;

/// The endpoint's address and token, as the clients get them.
pub struct Endpoint {
    pub url: String,
    pub token: Secret,
}

impl Endpoint {
    /// The two variables an SDK needs, in the order the `env` formats print them.
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", self.url.clone()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", self.token.expose().to_string()),
        ]
    }
}

/// A fresh 256-bit token, hex.
pub fn new_token() -> Result<Secret> {
    let mut bytes = [0u8; 32];
    if !crate::platform::random_bytes(&mut bytes) {
        return Err(Error::unexpected("cannot read 32 random bytes from the OS for the server's token"));
    }
    Ok(Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// The state shared by every connection.
struct Shared {
    token: Secret,
    source: Arc<Source>,
    /// The last credentials handed out, as the answer's body; held only to read or replace.
    current: Mutex<Option<Answer>>,
    /// Held for a whole renewal: the requests that arrive meanwhile wait, then take its result.
    renewing: Mutex<()>,
    /// Credentials with less than this left are renewed before they are handed out.
    margin: Duration,
}

/// Credentials ready to send: the body is made once per renewal, not once per request.
#[derive(Clone)]
struct Answer {
    expiration: time::OffsetDateTime,
    body: Bytes,
}

impl Shared {
    fn fresh(&self) -> Option<Bytes> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let left = |a: &Answer| (a.expiration - clock::now()).whole_seconds();
        current.as_ref().filter(|a| left(a) > self.margin.as_secs() as i64).map(|a| a.body.clone())
    }
}

/// Serves on `listener` until `stop` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    token: Secret,
    source: Arc<Source>,
    margin: Duration,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let shared = Arc::new(Shared { token, source, current: Mutex::new(None), renewing: Mutex::new(()), margin });
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    ui::trace(&format!("server: accept failed: {e}"));
                    continue;
                }
            },
            _ = &mut stop => return Ok(()),
        };
        // Answers are small and one per request: send them at once, not after Nagle's wait.
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEADER_BYTES)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let response = answer(shared, &req).await;
    if !ui::verbose() {
        return response;
    }
    ui::trace(&format!(
        "server: {} {} -> {} in {:.1} ms",
        req.method(),
        if req.uri().path() == PATH { PATH } else { "(other path)" },
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    ));
    response
}

async fn answer(shared: &Arc<Shared>, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.uri().path() != PATH {
        return reply(StatusCode::NOT_FOUND, error_body("NotFound", "no such path").into());
    }
    if req.method() != Method::GET {
        return reply(StatusCode::METHOD_NOT_ALLOWED, error_body("MethodNotAllowed", "only GET").into());
    }
    let Some(given) = req.headers().get(AUTHORIZATION) else {
        return reply(StatusCode::UNAUTHORIZED, error_body("Unauthorized", "no Authorization header").into());
    };
    if !bool::from(given.as_bytes().ct_eq(shared.token.expose().as_bytes())) {
        return reply(StatusCode::FORBIDDEN, error_body("Forbidden", "wrong token").into());
    }
    if let Some(body) = shared.fresh() {
        return reply(StatusCode::OK, body);
    }
    // A renewal blocks (STS, the cache lock, maybe a prompt): on a plain thread of its own,
    // outside the async runtime, which keeps serving the others meanwhile.
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let renewer = shared.clone();
    std::thread::spawn(move || {
        let _ = sender.send(renew(&renewer));
    });
    match receiver.await {
        Ok(Ok(body)) => reply(StatusCode::OK, body),
        Ok(Err(err)) => {
            let message = match &err.hint {
                Some(hint) => format!("awsmfa: {} ({hint})", err.message),
                None => format!("awsmfa: {}", err.message),
            };
            reply(StatusCode::INTERNAL_SERVER_ERROR, error_body("CredentialsUnavailable", &message).into())
        }
        Err(_) => {
            reply(StatusCode::INTERNAL_SERVER_ERROR, error_body("InternalError", "the credential task failed").into())
        }
    }
}

/// New credentials from the source, once for all the requests that wait on the renewal.
fn renew(shared: &Shared) -> Result<Bytes> {
    let _renewing = shared.renewing.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(body) = shared.fresh() {
        return Ok(body); // renewed by the request we waited for
    }
    let (session, role) = (shared.source)()?;
    let answer = Answer {
        expiration: session.expiration,
        body: output::container_credentials_json(&session, role.as_deref()).into(),
    };
    *shared.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer.clone());
    Ok(answer.body)
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "Code": code, "Message": message }).to_string()
}

/// Binds `addr`; anything but loopback is warned about, since the token then travels the
/// network in clear text.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    if !addr.ip().is_loopback() {
        ui::warn(&format!(
            "serving credentials on {addr}, which is not loopback: anyone who can reach it and sees the token gets your session"
        ));
    }
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::config(format!("cannot listen on {addr}: {}", crate::error::io_reason(&e))).because(e))
}
