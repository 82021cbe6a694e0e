//! A local credential endpoint in the ECS container-credentials protocol, which every AWS
//! SDK polls on its own when its credentials near their end (`AWS_CONTAINER_CREDENTIALS_
//! FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`): long jobs outlive the session they
//! started with. hyper serves HTTP/1.1 on loopback; each request is checked (one path, GET
//! only, a 256-bit token compared in constant time, bounded headers, a read timeout) before
//! the credentials are handed out; one renewal at a time serves every request that needs it,
//! whatever its outcome. Credentials are never logged; `-v` logs status and latency only.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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
/// How long the server waits after accept failed for want of resources (descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Where credentials come from: called on a thread of its own (it may block on STS, a lock
/// or a prompt), one call at a time, whose outcome every waiting request shares. Returns
/// the session (and the role ARN, for roles).
pub type Source = dyn Fn() -> Result<(Session, Option<String>)> + Send + Sync;

/// Where a credential server gets its credentials: the plan's providers, asked again on
/// every renewal (never with the code given at the start: it is spent).
pub fn session_source(settings: Arc<crate::profile::Settings>, request: crate::session::Request) -> Arc<Source> {
    let role = settings.roles.last().map(|h| h.role_arn.clone());
    let request = crate::session::Request { code: None, ..request };
    Arc::new(move || {
        let got = crate::session::get_session(&settings.session(), &request)?;
        Ok((got.session, role.clone()))
    })
}

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
    /// The renewal in flight, if any: every request that needs new credentials meanwhile
    /// waits for its outcome instead of starting another (one thread, one run of the code
    /// source, however many requests).
    renewal: Mutex<Option<tokio::sync::watch::Receiver<Option<Outcome>>>>,
    /// Credentials with less than this left are renewed before they are handed out.
    margin: Duration,
}

/// What a renewal ended with: the answer's body, or awsmfa's reason for the client.
type Outcome = std::result::Result<Bytes, String>;

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

    /// The outcome of the renewal in flight, starting one when there is none. A renewal
    /// blocks (STS, the cache lock, maybe a prompt): it runs on a plain thread of its own,
    /// outside the async runtime, which keeps serving the others meanwhile.
    async fn renewed(self: &Arc<Self>) -> Outcome {
        let mut outcome = {
            let mut slot = self.renewal.lock().unwrap_or_else(|p| p.into_inner());
            match &*slot {
                Some(in_flight) => {
                    ui::trace("server: waiting for the renewal in flight");
                    in_flight.clone()
                }
                None => {
                    // A renewal may have ended between `fresh` and this lock.
                    if let Some(body) = self.fresh() {
                        return Ok(body);
                    }
                    ui::trace("server: renewing the credentials");
                    let (done, outcome) = tokio::sync::watch::channel(None);
                    *slot = Some(outcome.clone());
                    let shared = self.clone();
                    std::thread::spawn(move || {
                        // Ends the renewal even if the source panics: the next request starts anew.
                        let end = EndRenewal(&shared);
                        let result = shared.renew();
                        drop(end);
                        let _ = done.send(Some(result));
                    });
                    outcome
                }
            }
        };
        match outcome.wait_for(Option::is_some).await {
            Ok(result) => result.clone().expect("waited for Some"),
            Err(_) => Err("awsmfa: the renewal of the credentials failed".to_string()),
        }
    }

    /// New credentials from the source; kept for the requests that follow.
    fn renew(&self) -> Outcome {
        let (session, role) = (self.source)().map_err(|err| {
            let reason = match &err.hint {
                Some(hint) => format!("{} ({hint})", err.message),
                None => err.message.clone(),
            };
            // The JavaScript and Rust SDKs show the client a bare "500": the reason is here.
            ui::warn(&format!("server: the credentials could not be renewed: {reason}"));
            format!("awsmfa: {reason}")
        })?;
        let answer = Answer {
            expiration: session.expiration,
            body: output::container_credentials_json(&session, role.as_deref()).into(),
        };
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer.clone());
        Ok(answer.body)
    }
}

/// Clears the renewal in flight when dropped: after its credentials are stored (so a
/// request that finds no renewal finds them fresh) and before its waiters are told.
struct EndRenewal<'a>(&'a Shared);

impl Drop for EndRenewal<'_> {
    fn drop(&mut self) {
        *self.0.renewal.lock().unwrap_or_else(|p| p.into_inner()) = None;
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
    let shared = Arc::new(Shared { token, source, current: Mutex::new(None), renewal: Mutex::new(None), margin });
    let mut stop = std::pin::pin!(stop);
    let mut starved = false;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) if is_connection_error(&e) => {
                    ui::trace(&format!("server: accept failed: {e}"));
                    continue;
                }
                Err(e) => {
                    // Out of file descriptors (EMFILE, ENFILE) or memory: the connection
                    // stays queued and accept fails again at once, a loop at full CPU. Wait,
                    // as hyper's AddrIncoming and aws-vault do, while the connections being
                    // served finish and free descriptors.
                    if !starved {
                        ui::warn(&format!(
                            "server: cannot accept connections ({}); trying again every {} ms",
                            crate::error::io_reason(&e),
                            ACCEPT_BACKOFF.as_millis()
                        ));
                        starved = true;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                        _ = &mut stop => return Ok(()),
                    }
                }
            },
            _ = &mut stop => return Ok(()),
        };
        if std::mem::take(&mut starved) {
            ui::note("server: accepting connections again");
        }
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
                // A client may shut its side once its request is sent (`curl`-like tools,
                // proxies); it still waits for the answer, which hyper would otherwise drop
                // on seeing the end of the input while the answer is being made.
                .half_close(true)
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
    match shared.renewed().await {
        Ok(body) => reply(StatusCode::OK, body),
        Err(message) => reply(StatusCode::INTERNAL_SERVER_ERROR, error_body("CredentialsUnavailable", &message).into()),
    }
}

/// An error of one connection (the client gave up before it was accepted), not of the server.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted)
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

/// A server about to serve: its listener, and the endpoint its clients are given.
pub struct Started {
    pub listener: tokio::net::TcpListener,
    /// Where it listens (for `0.0.0.0`, every interface; the endpoint's URL is loopback's).
    pub address: SocketAddr,
    pub endpoint: Endpoint,
}

/// Binds `addr` and makes the endpoint's token: how `serve` and `exec --server` both start.
pub async fn start(addr: SocketAddr) -> Result<Started> {
    let listener = bind(addr).await?;
    let address = listener.local_addr().map_err(|e| Error::unexpected(format!("the server has no address: {e}")))?;
    let endpoint = Endpoint { url: url(address), token: new_token()? };
    Ok(Started { listener, address, endpoint })
}

/// Binds `addr`. Anything but loopback is warned about, since the token then travels the
/// network in clear text, and so is an address whose URL the SDKs would refuse.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::config(format!("cannot listen on {addr}: {}", crate::error::io_reason(&e))).because(e))?;
    let bound = listener.local_addr().map_err(|e| Error::unexpected(format!("the server has no address: {e}")))?;
    let exposed = "anyone who can reach it and sees the token gets your session";
    if bound.ip().is_unspecified() {
        ui::warn(&format!(
            "serving credentials on every interface ({bound}): {exposed}; the URL printed is loopback's, as the AWS SDKs accept plain HTTP only there (and on the ECS/EKS link-local addresses)"
        ));
    } else if !bound.ip().is_loopback() {
        ui::warn(&format!("serving credentials on {bound}, which is not loopback: {exposed}"));
        if !sdks_accept(bound.ip()) {
            ui::warn(&format!(
                "the AWS SDKs refuse {} as AWS_CONTAINER_CREDENTIALS_FULL_URI: they accept plain HTTP only on loopback, 169.254.170.2, 169.254.170.23 and fd00:ec2::23",
                url(bound)
            ));
        }
    }
    Ok(listener)
}

/// The URL of a server listening on `addr`, as a client must be given it: an unspecified
/// address (0.0.0.0, ::) listens on every interface but is no address to connect to, and
/// of those interfaces, loopback's is the one every SDK accepts.
pub fn url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}{PATH}", SocketAddr::new(ip, addr.port()))
}

/// Whether the AWS SDKs take `http://IP/...` as a container endpoint: loopback, and the
/// addresses ECS and EKS give their agents (aws-config's `is_full_uri_ip_allowed`, botocore's
/// and the JavaScript SDK's lists are the same).
fn sdks_accept(ip: IpAddr) -> bool {
    const ECS: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2));
    const EKS: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 170, 23));
    const EKS_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x23));
    ip.is_loopback() || [ECS, EKS, EKS_V6].contains(&ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_on_every_interface_is_reached_through_loopback() {
        let url = |a: &str| url(a.parse().unwrap());
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080/credentials");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080/credentials");
        assert_eq!(url("127.0.0.1:1"), "http://127.0.0.1:1/credentials");
        assert_eq!(url("192.168.1.5:2"), "http://192.168.1.5:2/credentials");
    }

    #[test]
    fn the_sdks_accept_loopback_and_the_ecs_and_eks_addresses_only() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"] {
            assert!(sdks_accept(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["0.0.0.0", "192.168.1.5", "172.17.0.1", "169.254.169.254", "::"] {
            assert!(!sdks_accept(ip.parse().unwrap()), "{ip}");
        }
    }
}
