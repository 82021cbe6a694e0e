//! The AWS SDK for Rust as any program uses it: aws-config's default credential chain, then
//! sts:GetCallerIdentity. Prints `{"arn": "..."}`; the tests run it as the command of
//! `awsmfa exec` to see which credentials a Rust program inside really gets.
//!
//! The SDK crates are built without their default HTTPS client, so the client is given here
//! as awsmfa gives it to its own (rustls with ring).

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let config = aws_config::defaults(BehaviorVersion::latest()).http_client(http).load().await;
    match aws_sdk_sts::Client::new(&config).get_caller_identity().send().await {
        Ok(out) => println!("{}", serde_json::json!({ "arn": out.arn().unwrap_or_default() })),
        Err(e) => {
            eprintln!("{}", aws_smithy_types::error::display::DisplayErrorContext(&e));
            std::process::exit(1);
        }
    }
}
