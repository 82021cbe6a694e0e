//! The EC2 calls awsmfa makes (RunInstances, DescribeInstances, TerminateInstances,
//! DescribeKeyPairs), as typed calls over the AWS SDK's own runtime: aws-smithy-runtime's
//! orchestrator (HTTP client, retries, timeouts), aws-sigv4 (signing), aws-smithy-query and
//! aws-smithy-xml (EC2's query protocol), the same pieces aws-sdk-ec2 is generated onto.
//!
//! Why not aws-sdk-ec2 itself: it is 1.24 M generated lines for EC2's 700 operations, and
//! for these four it cost 12.6 of a release build's 17.4 minutes and most of its 9 GiB of
//! memory on two cores (`cargo build --release --timings`). Everything that must be right
//! (signing, retries, timeouts, TLS, the wire format's encoders) is still the SDK's; what is
//! ours is the list of parameters and the walk over the answer's XML.

use std::borrow::Cow;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_query::QueryWriter;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime::client::retries::classifiers::{HttpStatusCodeClassifier, TransientErrorClassifier};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_xml::decode::{Document, ScopedDecoder, XmlDecodeError, try_data};

use super::ClientSpec;

/// The EC2 API version of the query protocol (the one aws-sdk-ec2 speaks).
const VERSION: &str = "2016-11-15";

/// EC2's answer "no", with AWS's code and message.
#[derive(Debug)]
pub struct Ec2Error(ErrorMetadata);

impl std::fmt::Display for Ec2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code().unwrap_or("Unknown"), self.0.message().unwrap_or(""))
    }
}

impl std::error::Error for Ec2Error {}

impl ProvideErrorMetadata for Ec2Error {
    fn meta(&self) -> &ErrorMetadata {
        &self.0
    }
}

pub type Ec2Result<T> = Result<T, SdkError<Ec2Error, HttpResponse>>;

/// What RunInstances is asked for.
#[derive(Debug, Clone, Default)]
pub struct RunInstances {
    pub image_id: String,
    pub instance_type: String,
    pub count: i32,
    pub key_name: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_ids: Vec<String>,
    /// Tags of the new instances.
    pub tags: Vec<(String, String)>,
    pub dry_run: bool,
}

/// One instance, as EC2 describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub state: String,
    pub instance_type: String,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    /// As EC2 wrote it (ISO 8601, UTC).
    pub launch_time: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// EC2 calls signed with one set of credentials, to one endpoint.
pub struct Client {
    spec: ClientSpec,
    url: String,
}

impl Client {
    pub fn new(spec: &ClientSpec) -> Client {
        Client { url: spec.describe_endpoint("ec2"), spec: spec.clone() }
    }

    /// RunInstances; with `dry_run`, EC2 answers DryRunOperation (allowed) or an error.
    pub async fn run_instances(&self, run: &RunInstances) -> Ec2Result<Vec<Instance>> {
        let mut body = String::new();
        let mut w = QueryWriter::new(&mut body, "RunInstances", VERSION);
        w.prefix("ImageId").string(&run.image_id);
        w.prefix("InstanceType").string(&run.instance_type);
        w.prefix("MinCount").string(&run.count.to_string());
        w.prefix("MaxCount").string(&run.count.to_string());
        if let Some(key) = &run.key_name {
            w.prefix("KeyName").string(key);
        }
        if let Some(subnet) = &run.subnet_id {
            w.prefix("SubnetId").string(subnet);
        }
        // Lists only when they have members: an empty one is sent as a bare name.
        if !run.security_group_ids.is_empty() {
            let mut groups = w.prefix("SecurityGroupId").start_list(true, None);
            for group in &run.security_group_ids {
                groups.entry().string(group);
            }
            groups.finish();
        }
        if !run.tags.is_empty() {
            w.prefix("TagSpecification.1.ResourceType").string("instance");
            let mut tags = w.prefix("TagSpecification.1.Tag").start_list(true, None);
            for (key, value) in &run.tags {
                let mut tag = tags.entry();
                tag.prefix("Key").string(key);
                tag.prefix("Value").string(value);
            }
            tags.finish();
        }
        if run.dry_run {
            w.prefix("DryRun").boolean(true);
        }
        w.finish();
        self.call("RunInstances", body, |root| {
            let mut found = Vec::new();
            while let Some(mut tag) = root.next_tag() {
                if tag.start_el().local() == "instancesSet" {
                    found.extend(items(&mut tag, instance)?);
                }
            }
            Ok(found)
        })
        .await
    }

    /// DescribeInstances of `ids` (all when empty) that match `filters` (name, value), every
    /// page of it.
    pub async fn describe_instances(&self, ids: &[String], filters: &[(String, String)]) -> Ec2Result<Vec<Instance>> {
        let mut found = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut body = String::new();
            let mut w = QueryWriter::new(&mut body, "DescribeInstances", VERSION);
            if !ids.is_empty() {
                let mut list = w.prefix("InstanceId").start_list(true, None);
                for id in ids {
                    list.entry().string(id);
                }
                list.finish();
            }
            if !filters.is_empty() {
                let mut list = w.prefix("Filter").start_list(true, None);
                for (name, value) in filters {
                    let mut filter = list.entry();
                    filter.prefix("Name").string(name);
                    filter.prefix("Value.1").string(value);
                }
                list.finish();
            }
            if let Some(token) = &next {
                w.prefix("NextToken").string(token);
            }
            w.finish();
            let (page, token) = self
                .call("DescribeInstances", body, |root| {
                    let (mut page, mut token) = (Vec::new(), None);
                    while let Some(mut tag) = root.next_tag() {
                        match tag.start_el().local() {
                            "reservationSet" => {
                                for reservation in items(&mut tag, |r| {
                                    let mut inner = Vec::new();
                                    while let Some(mut t) = r.next_tag() {
                                        if t.start_el().local() == "instancesSet" {
                                            inner.extend(items(&mut t, instance)?);
                                        }
                                    }
                                    Ok(inner)
                                })? {
                                    page.extend(reservation);
                                }
                            }
                            "nextToken" => token = Some(try_data(&mut tag)?.to_string()).filter(|t| !t.is_empty()),
                            _ => {}
                        }
                    }
                    Ok((page, token))
                })
                .await?;
            found.extend(page);
            match token {
                Some(token) if Some(&token) != next.as_ref() => next = Some(token),
                _ => return Ok(found),
            }
        }
    }

    pub async fn terminate_instances(&self, ids: &[String]) -> Ec2Result<()> {
        let mut body = String::new();
        let mut w = QueryWriter::new(&mut body, "TerminateInstances", VERSION);
        let mut list = w.prefix("InstanceId").start_list(true, None);
        for id in ids {
            list.entry().string(id);
        }
        list.finish();
        w.finish();
        self.call("TerminateInstances", body, |_| Ok(())).await
    }

    /// The names of the region's key pairs.
    pub async fn describe_key_pairs(&self) -> Ec2Result<Vec<String>> {
        let mut body = String::new();
        QueryWriter::new(&mut body, "DescribeKeyPairs", VERSION).finish();
        self.call("DescribeKeyPairs", body, |root| {
            let mut names = Vec::new();
            while let Some(mut tag) = root.next_tag() {
                if tag.start_el().local() == "keySet" {
                    for name in items(&mut tag, |item| {
                        let mut name = None;
                        while let Some(mut t) = item.next_tag() {
                            if t.start_el().local() == "keyName" {
                                name = Some(try_data(&mut t)?.to_string());
                            }
                        }
                        Ok(name)
                    })?
                    .into_iter()
                    .flatten()
                    {
                        names.push(name);
                    }
                }
            }
            Ok(names)
        })
        .await
    }

    /// One call: the form body signed and sent through the SDK's orchestrator (its retries
    /// and timeouts), the answer's root element handed to `parse`.
    async fn call<O>(
        &self,
        action: &'static str,
        body: String,
        parse: impl Fn(&mut ScopedDecoder<'_, '_>) -> Result<O, XmlDecodeError> + Send + Sync + 'static,
    ) -> Ec2Result<O>
    where
        O: std::fmt::Debug + Send + Sync + 'static,
    {
        let Some(credentials) = self.spec.credentials.clone() else {
            return Err(SdkError::construction_failure("EC2 calls are signed: no credentials were given"));
        };
        let (region, url) = (self.spec.region.clone(), self.url.clone());
        let mut builder = Operation::builder()
            .service_name("ec2")
            .operation_name(action)
            .http_client(self.spec.http_client.clone())
            .endpoint_url(&self.url)
            .no_auth()
            .timeout_config(self.spec.timeouts.clone())
            .retry_classifier(HttpStatusCodeClassifier::default())
            .retry_classifier(TransientErrorClassifier::<Ec2Error>::new())
            .retry_classifier(aws_runtime::retries::classifiers::AwsErrorCodeClassifier::<Ec2Error>::new());
        builder = match self.spec.retries {
            super::Retries::Never => builder.no_retry(),
            super::Retries::Standard => builder.standard_retry(&self.spec.retry_config()),
        };
        let operation = builder
            .serializer(move |body: String| signed(&credentials, &region, &url, body))
            .deserializer(move |response: &HttpResponse| {
                let text = response.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
                if !response.status().is_success() {
                    return Err(OrchestratorError::operation(Ec2Error(error_metadata(&text))));
                }
                let mut doc = Document::new(&text);
                let mut root = doc.root_element().map_err(OrchestratorError::other)?;
                parse(&mut root).map_err(OrchestratorError::other)
            })
            .build();
        operation.invoke(body).await
    }
}

/// The request for `body`, signed (SigV4, service `ec2`) at this moment of awsmfa's clock.
fn signed(
    credentials: &Credentials,
    region: &str,
    url: &str,
    body: String,
) -> Result<HttpRequest, aws_smithy_runtime_api::box_error::BoxError> {
    const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("ec2")
        .time(SystemTime::from(crate::clock::now()))
        .settings(SigningSettings::default())
        .build()?
        .into();
    let headers = [("content-type", CONTENT_TYPE)];
    let signable = SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body.as_bytes()))?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    let mut request = http::Request::builder().method("POST").uri(url).header("content-type", CONTENT_TYPE);
    for (name, value) in instructions.headers() {
        request = request.header(name, value);
    }
    let request = request.body(SdkBody::from(body))?;
    Ok(HttpRequest::try_from(request)?)
}

/// The `<item>`s of a list element, each parsed by `parse`.
fn items<T>(
    list: &mut ScopedDecoder<'_, '_>,
    parse: impl Fn(&mut ScopedDecoder<'_, '_>) -> Result<T, XmlDecodeError>,
) -> Result<Vec<T>, XmlDecodeError> {
    let mut out = Vec::new();
    while let Some(mut item) = list.next_tag() {
        if item.start_el().local() == "item" {
            out.push(parse(&mut item)?);
        }
    }
    Ok(out)
}

fn instance(item: &mut ScopedDecoder<'_, '_>) -> Result<Instance, XmlDecodeError> {
    let mut i = Instance::default();
    while let Some(mut field) = item.next_tag() {
        let text = |field: &mut ScopedDecoder<'_, '_>| try_data(field).map(Cow::into_owned);
        match field.start_el().local() {
            "instanceId" => i.id = text(&mut field)?,
            "instanceType" => i.instance_type = text(&mut field)?,
            "privateIpAddress" => i.private_ip = Some(text(&mut field)?).filter(|v| !v.is_empty()),
            "ipAddress" => i.public_ip = Some(text(&mut field)?).filter(|v| !v.is_empty()),
            "launchTime" => i.launch_time = Some(text(&mut field)?).filter(|v| !v.is_empty()),
            "instanceState" => {
                while let Some(mut state) = field.next_tag() {
                    if state.start_el().local() == "name" {
                        i.state = text(&mut state)?;
                    }
                }
            }
            "tagSet" => {
                i.tags = items(&mut field, |tag| {
                    let (mut key, mut value) = (String::new(), String::new());
                    while let Some(mut t) = tag.next_tag() {
                        match t.start_el().local() {
                            "key" => key = try_data(&mut t)?.into_owned(),
                            "value" => value = try_data(&mut t)?.into_owned(),
                            _ => {}
                        }
                    }
                    Ok((key, value))
                })?
            }
            _ => {}
        }
    }
    Ok(i)
}

/// `<Response><Errors><Error><Code>…</Code><Message>…</Message>` (EC2's error shape); an
/// answer that is not XML keeps the HTTP status as its code.
fn error_metadata(text: &str) -> ErrorMetadata {
    let mut builder = ErrorMetadata::builder();
    let mut doc = Document::new(text);
    let parsed = (|| -> Result<bool, XmlDecodeError> {
        let mut root = doc.root_element()?;
        let mut any = false;
        while let Some(mut errors) = root.next_tag() {
            if errors.start_el().local() != "Errors" {
                continue;
            }
            while let Some(mut error) = errors.next_tag() {
                while let Some(mut field) = error.next_tag() {
                    match field.start_el().local() {
                        "Code" => {
                            builder = std::mem::take(&mut builder).code(try_data(&mut field)?);
                            any = true;
                        }
                        "Message" => builder = std::mem::take(&mut builder).message(try_data(&mut field)?),
                        _ => {}
                    }
                }
            }
        }
        Ok(any)
    })();
    match parsed {
        Ok(true) => builder.build(),
        _ => ErrorMetadata::builder().code("Unknown").message(text.chars().take(200).collect::<String>()).build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2s_error_shape_gives_its_code_and_message() {
        let meta = error_metadata(
            "<Response><Errors><Error><Code>DryRunOperation</Code><Message>Request would have succeeded.</Message></Error></Errors><RequestID>x</RequestID></Response>",
        );
        assert_eq!(meta.code(), Some("DryRunOperation"));
        assert_eq!(meta.message(), Some("Request would have succeeded."));
        assert_eq!(error_metadata("<html>bad gateway</html>").code(), Some("Unknown"));
    }

    #[test]
    fn an_instance_is_read_from_ec2s_xml() {
        let xml = "<DescribeInstancesResponse><reservationSet><item><instancesSet><item>\
            <instanceId>i-1</instanceId><instanceState><code>16</code><name>running</name></instanceState>\
            <instanceType>t2.micro</instanceType><privateIpAddress>10.0.0.1</privateIpAddress>\
            <launchTime>2026-12-02T10:00:00.000Z</launchTime>\
            <tagSet><item><key>Name</key><value>web</value></item></tagSet></item></instancesSet></item></reservationSet>\
            <nextToken/></DescribeInstancesResponse>";
        let mut doc = Document::new(xml);
        let mut root = doc.root_element().unwrap();
        let mut found = Vec::new();
        while let Some(mut tag) = root.next_tag() {
            if tag.start_el().local() == "reservationSet" {
                for mut r in items(&mut tag, |r| {
                    let mut v = Vec::new();
                    while let Some(mut t) = r.next_tag() {
                        v.extend(items(&mut t, instance)?);
                    }
                    Ok(v)
                })
                .unwrap()
                {
                    found.append(&mut r);
                }
            }
        }
        assert_eq!(found.len(), 1);
        let i = &found[0];
        assert_eq!((i.id.as_str(), i.state.as_str(), i.instance_type.as_str()), ("i-1", "running", "t2.micro"));
        assert_eq!(i.private_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(i.public_ip, None);
        assert_eq!(i.tags, vec![("Name".to_string(), "web".to_string())]);
    }
}
