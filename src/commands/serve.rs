//! `awsmfa serve`: the session on a local credential endpoint (ECS container-credentials
//! protocol) for other shells and containers; prints the two variables, serves until Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use super::{print, request, settings};
use crate::aws;
use crate::cli::{GlobalArgs, ServeArgs};
use crate::error::Result;
use crate::output;
use crate::profile::PreferredCredentials;
use crate::server;
use crate::session;
use crate::ui;

pub fn run(global: &GlobalArgs, args: ServeArgs) -> Result<i32> {
    let settings = settings(global, &args.session)?;
    let request = request(&args.session, false)?;
    // Logged in now, on this terminal: a missing code is said before anything is served.
    session::get_session(&settings.session(), &request)?;
    let margin = Duration::from_secs(session::min_ttl(&settings.session(), &request));
    let preferred = settings.preferred_over_endpoint.clone();
    let source = server::session_source(Arc::new(settings), request);
    aws::block_on(async move {
        let server::Started { listener, address, endpoint } = server::start(args.listen).await?;
        print(output::render_variables(args.format, &endpoint.variables())?.as_bytes())?;
        if let Some(preferred) = preferred {
            warn_preferred(&preferred);
        }
        let listening =
            if address.ip().is_unspecified() { format!(" (listening on {address})") } else { String::new() };
        ui::note(&format!("serving credentials at {}{listening} until Ctrl-C", endpoint.url));
        server::serve(listener, endpoint.token, source, margin, stop_signal()).await
    })??;
    Ok(0)
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    match crate::platform::StopSignals::watch() {
        Ok(mut signals) => {
            signals.next().await;
        }
        Err(_) => std::future::pending().await,
    }
}

/// Every SDK takes these credentials before the endpoint: a client started from this shell
/// would never ask it, and nothing would say so.
fn warn_preferred(preferred: &PreferredCredentials) {
    let cure = if preferred.in_environment {
        "unset it where the clients run"
    } else {
        "give the clients AWS_SHARED_CREDENTIALS_FILE=/dev/null and AWS_CONFIG_FILE=/dev/null (as `awsmfa exec --server` does), or move the keys out of that profile"
    };
    ui::warn(&format!("SDKs use {} before this endpoint: {cure}", preferred.place));
}
