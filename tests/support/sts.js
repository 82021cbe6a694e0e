// GetCallerIdentity with the AWS SDK for JavaScript v3, its credentials from the container
// endpoint (fromContainerMetadata): the endpoint `awsmfa exec --server` gives its command.
// With --default-chain, from the SDK's default chain instead, as most programs get them.
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
const { fromContainerMetadata } = require("@aws-sdk/credential-providers");
(async () => {
  const credentials = process.argv.includes("--default-chain") ? undefined : fromContainerMetadata();
  const client = new STSClient({ region: process.env.AWS_REGION || "us-east-1", credentials });
  const out = await client.send(new GetCallerIdentityCommand({}));
  console.log(JSON.stringify({ arn: out.Arn, endpoint: process.env.AWS_ENDPOINT_URL || null }));
})().catch((e) => { console.error(String(e)); process.exit(1); });
