//! AWS Sign-In's CreateOAuth2Token, typed: a console sign-in's authorization code exchanged
//! for session credentials, and their refresh. Unsigned (the public devtools clients need no
//! credentials); each request carries a DPoP proof that the caller makes for the request's
//! final URL (`Proof`), added by an interceptor just before it goes out.
//!
//! aws-config's `LoginCredentialsProvider` refreshes such sessions too, but cannot be used
//! here: it takes no endpoint override (AWS_ENDPOINT_URL_SIGNIN, a proxy, the emulator),
//! writes the cache file in place without a lock, and holds its DPoP types private.

use std::sync::Arc;

use aws_sdk_signin::error::SdkError;
use aws_sdk_signin::operation::create_o_auth2_token::CreateOAuth2TokenError;
use aws_sdk_signin::types::CreateOAuth2TokenRequestBody;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::{Call, ClientSpec, Failure, block_on, classify};
use crate::credentials::Secret;
use crate::error::{Error, Result};

/// Makes the DPoP header for a POST to the URL it is given.
pub type Proof = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The public clients of the AWS CLI's `aws login`, and of awsmfa's.
pub const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
pub const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";

/// What the token endpoint hands out.
pub struct Token {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    /// Seconds the credentials last (at most 900).
    pub expires_in: i64,
    /// Good for the next refresh only: each answer brings a new one.
    pub refresh_token: Secret,
    /// Only for a code exchange: whose session it is (`sub`) and when it began (`iat`).
    pub id_token: Option<String>,
}

/// The authorization code exchanged (`grantType = authorization_code`).
pub fn exchange_code(
    spec: &ClientSpec,
    client_id: &str,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
    proof: Proof,
) -> Result<Call<Token>> {
    let body = CreateOAuth2TokenRequestBody::builder()
        .client_id(client_id)
        .grant_type("authorization_code")
        .code(code)
        .code_verifier(verifier)
        .redirect_uri(redirect_uri)
        .build()
        .map_err(|e| Error::unexpected(format!("cannot make the token request: {e}")))?;
    create_token(spec, body, proof)
}

/// New credentials for a refresh token (`grantType = refresh_token`).
pub fn refresh(spec: &ClientSpec, client_id: &str, refresh_token: &Secret, proof: Proof) -> Result<Call<Token>> {
    let body = CreateOAuth2TokenRequestBody::builder()
        .client_id(client_id)
        .grant_type("refresh_token")
        .refresh_token(refresh_token.expose())
        .build()
        .map_err(|e| Error::unexpected(format!("cannot make the token request: {e}")))?;
    create_token(spec, body, proof)
}

fn create_token(spec: &ClientSpec, body: CreateOAuth2TokenRequestBody, proof: Proof) -> Result<Call<Token>> {
    let client = spec.signin();
    let answer = block_on(async {
        client.create_o_auth2_token().token_input(body).customize().interceptor(Dpop(proof)).send().await
    })?;
    let output = match answer {
        Ok(output) => output,
        Err(e) => return Ok(Err(failure(e))),
    };
    let out =
        output.token_output.ok_or_else(|| Error::unexpected("signin:CreateOAuth2Token answered without a token"))?;
    let access =
        out.access_token.ok_or_else(|| Error::unexpected("signin:CreateOAuth2Token answered without credentials"))?;
    Ok(Ok(Token {
        access_key_id: access.access_key_id,
        secret_access_key: Secret::new(access.secret_access_key),
        session_token: Secret::new(access.session_token),
        expires_in: i64::from(out.expires_in),
        refresh_token: Secret::new(out.refresh_token),
        id_token: out.id_token,
    }))
}

/// AWS Sign-In says why in `error` (TOKEN_EXPIRED, AUTHCODE_EXPIRED, USER_CREDENTIALS_CHANGED,
/// INSUFFICIENT_PERMISSIONS): that is the code callers match.
fn failure<R>(err: SdkError<CreateOAuth2TokenError, R>) -> Failure
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let SdkError::ServiceError(service) = &err
        && let CreateOAuth2TokenError::AccessDeniedException(denied) = service.err()
    {
        return Failure::Service { code: denied.error.as_str().to_string(), message: denied.message.clone() };
    }
    classify(err)
}

/// Adds the DPoP proof for the request's final URL, as it goes out.
#[derive(Clone)]
struct Dpop(Proof);

impl std::fmt::Debug for Dpop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dpop")
    }
}

impl Intercept for Dpop {
    fn name(&self) -> &'static str {
        "awsmfa-dpop"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> std::result::Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let request = context.request_mut();
        let proof = (self.0)(request.uri());
        request.headers_mut().insert("DPoP", proof);
        Ok(())
    }
}
