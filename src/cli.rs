//! The command tree, every flag and its help text: clap definitions only, no behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;
use crate::output::policy::PolicyScope;

const ABOUT: &str = "MFA-protected temporary AWS credentials, in one command.";

const LONG_ABOUT: &str = "\
MFA-protected temporary AWS credentials, in one command.

awsmfa asks for your MFA code once, calls STS GetSessionToken, caches the session until it
expires, and hands it to your shell, a child process, a profile in ~/.aws/credentials, or any
AWS SDK through credential_process. It reads the AWS CLI's files and variables.";

const AFTER_HELP: &str = "\
Examples:
  awsmfa login                          ask for the code once; cached until expiry
  eval \"$(awsmfa env)\"                  export the session into this shell
  awsmfa exec -- aws s3 ls              run one command with the session
  awsmfa status                         who, which device, time left

In ~/.aws/config, to give every AWS SDK and the AWS CLI MFA credentials:
  [profile work]
  credential_process = awsmfa credential-process --profile work-long-term";

#[derive(Debug, Parser)]
#[command(name = "awsmfa", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Profile to use (its keys, mfa_serial, region...) [env: AWS_PROFILE, AWS_DEFAULT_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Region for AWS calls [env: AWS_REGION, AWS_DEFAULT_REGION]
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Show each step on stderr (never secrets)
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

/// How to get a session: shared by every command that may log in.
#[derive(Debug, Args, Clone, Default)]
pub struct SessionArgs {
    /// ARN of the MFA device [env: AWS_MFA_SERIAL_NUMBER; default: the profile's mfa_serial,
    /// else the user's only device]
    #[arg(long, value_name = "ARN")]
    pub serial: Option<String>,
    /// The 6-digit MFA code, or `-` to read it from the standard input. A code on the
    /// command line shows in `ps` and in shell history while it is valid: prefer the prompt
    /// or `--code -` [env: AWS_MFA_TOKEN_CODE; default: the profile's mfa_process,
    /// AWSMFA_TOTP_SECRET, or a prompt on the terminal]
    #[arg(long, value_name = "123456|-")]
    pub code: Option<String>,
    /// Session length: seconds or 15m, 1h, 12h, 36h [default: the profile's
    /// duration_seconds, else 12h]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<u64>,
    /// Reuse a cached session only while it has more than this left [env: AWSMFA_MIN_TTL]
    /// [default: 5m]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub min_ttl: Option<u64>,
    /// Assume this role with the MFA session (on top of the profile's own role, if any)
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Assume the role with the MFA code on the long-term keys, without an MFA session:
    /// allows up to the role's MaxSessionDuration [profile: awsmfa_direct = true]
    #[arg(long)]
    pub direct: bool,
}

fn parse_duration(text: &str) -> Result<u64, String> {
    crate::clock::parse_duration(text)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Get an MFA session and cache it (asks for the code once), or sign in at the AWS
    /// console in a browser (--console) for a session with no long-term keys at all
    #[command(after_help = "\
Examples:
  awsmfa login                              prompt for the code; reuse the cache if valid
  awsmfa login --code 123456 --duration 1h
  awsmfa login --console --profile dev      sign in in the browser (passkeys and security keys
                                            work); dev gets login_session, as `aws login` does
  awsmfa login --console --remote           on an SSH host: open the URL anywhere, paste the code
  awsmfa login --console --keystore --profile dev
                                            the same, its refresh token and key kept in the
                                            keystore (not in plain JSON); tools reach it
                                            through the credential_process written for dev
  awsmfa login --write-profile mfa          also write [mfa] in ~/.aws/credentials
  awsmfa login --save-json ~/aws-sts-get-session-token.json   the recipe's file

A console sign-in session gives credentials for 15 minutes at a time, which awsmfa (and the
AWS CLI v2 and SDKs that read it) renews for up to 12 hours; `env`, `exec`,
`credential-process`, `serve` and roles with source_profile use it like any session.")]
    Login(LoginArgs),

    /// Print the session as shell variables (logs in first if needed)
    #[command(after_help = "\
Examples:
  eval \"$(awsmfa env)\"                      bash, zsh
  awsmfa env --format fish | source          fish
  awsmfa env --format powershell | Invoke-Expression
  awsmfa env --format dotenv > .env")]
    Env(EnvArgs),

    /// Run a command with the session in its environment
    #[command(after_help = "\
Examples:
  awsmfa exec -- aws ec2 describe-instances
  awsmfa exec --profile work -- terraform plan

The command gets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION (and AWS_REGION when known); AWS_PROFILE is cleared.
awsmfa replaces itself with the command, so its exit code and signals are the command's.

With --server the command gets no keys but a local credential endpoint
(AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN), which every AWS
SDK and the AWS CLI poll on their own: a long job keeps working past the end of the session
it started with (role sessions renew from the cached MFA session without a prompt). The
command sees no AWS files (they point to /dev/null: the SDKs would prefer keys found there),
so its region comes from AWS_REGION. awsmfa waits for the command, forwards SIGTERM and
SIGHUP to it, and exits with its code.")]
    Exec(ExecArgs),

    /// Serve the session to AWS SDKs that refresh on their own (ECS credentials protocol)
    #[command(after_help = "\
Examples:
  awsmfa serve                        prints the two variables, then serves until Ctrl-C
  awsmfa exec --server -- terraform apply          (one command: the usual way)
  docker run --network host -e AWS_CONTAINER_CREDENTIALS_FULL_URI \\
      -e AWS_CONTAINER_AUTHORIZATION_TOKEN IMAGE   (with the variables set in this shell)

The endpoint listens on 127.0.0.1 (a free port) unless --listen says otherwise; the SDKs
accept a plain-HTTP endpoint only on loopback (and ECS/EKS link-local addresses), so a
container reaches it with host networking. Each server has its own 256-bit token.")]
    Serve(ServeArgs),

    /// Print credential_process JSON, for ~/.aws/config
    #[command(after_help = "\
Example, in ~/.aws/config:
  [profile work]
  credential_process = awsmfa credential-process --profile work-long-term

The profile named here holds the long-term keys (and mfa_serial). A valid cached session is
printed without any AWS call; otherwise awsmfa asks for the code on the terminal.")]
    CredentialProcess(CredentialProcessArgs),

    /// Show the profile, MFA device and session state (no AWS call)
    #[command(after_help = "\
Examples:
  awsmfa status
  awsmfa status --json
  awsmfa status --check && echo \"session valid\"")]
    Status(StatusArgs),

    /// Delete cached sessions
    #[command(after_help = "\
Examples:
  awsmfa logout                          this profile's session
  awsmfa logout --all                    every cached session
  awsmfa logout --write-profile mfa      also remove [mfa] from ~/.aws/credentials")]
    Logout(LogoutArgs),

    /// Prove the account enforces MFA: EC2 dry runs without and with MFA
    #[command(after_help = "\
Steps:
  1. pre-test   RunInstances (DryRun) with the long-term keys: must be denied
  2. session    the cached MFA session, or a login
  3. post-test  the same dry run with the session: must be allowed
  4. --launch   a real launch, waiting until running (--terminate: then terminate it)

Exit codes: 0 MFA enforced and working, 10 NOT enforced (long-term keys can launch),
5 denied even with MFA, 3 bad input (AMI, key pair), 4 MFA code rejected.

Examples:
  awsmfa verify --image-id ami-0d592b9373fad0e2c --key-name my-key
  awsmfa verify --launch --terminate --json")]
    Verify(VerifyArgs),

    /// Launch EC2 instances with the MFA session (tagged created-by=awsmfa)
    #[command(after_help = "\
Examples:
  awsmfa launch --image-id ami-0d592b9373fad0e2c --key-name my-key --wait
  awsmfa launch --count 2 --name build --tag team=data --wait --json
  (AWS_IMAGE_ID and AWSMFA_KEY_NAME, or the manual recipe's SENZING_AWS_KEYPAIR, are the defaults)")]
    Launch(LaunchArgs),

    /// List the instances awsmfa launched (--all: every instance)
    #[command(after_help = "\
Examples:
  awsmfa instances
  awsmfa instances --all --json")]
    Instances(InstancesArgs),

    /// Terminate instances that awsmfa launched
    #[command(after_help = "\
Examples:
  awsmfa terminate i-0123456789abcdef0 --wait
  awsmfa terminate i-0123456789abcdef0 --yes       no confirmation (scripts)
  awsmfa terminate i-0123456789abcdef0 --any       also instances not tagged created-by=awsmfa")]
    Terminate(TerminateArgs),

    /// Print the IAM policy that enforces MFA (JSON, for put-user-policy)
    #[command(after_help = "\
Use BoolIfExists, never plain Bool, on aws:MultiFactorAuthPresent: long-term keys do not
carry that key at all, so a Bool condition does not match them and lets them through.

With --apply awsmfa attaches it itself (iam:PutUserPolicy or iam:PutGroupPolicy), after
checking that it does not lock you out: applied to you (or a group you are in), it needs an
enabled MFA device of yours first (`awsmfa enroll`). A policy of that name with other
content is shown as a difference and replaced only with --replace. With an image, the
verdict follows: long-term keys denied, the MFA session allowed (EC2 dry runs).

Examples:
  awsmfa policy > mfa.json
  awsmfa policy --apply --user alice --dry-run          the calls and the document, nothing changed
  awsmfa policy --apply --group developers --image-id ami-0d592b9373fad0e2c
  awsmfa policy --scope ec2")]
    Policy(PolicyArgs),

    /// Create and enable a virtual MFA device for your IAM user (or enable a hardware one)
    #[command(after_help = "\
Steps:
  1. iam:CreateVirtualMFADevice (named after the user unless --device-name)
  2. the QR code and the seed, for your authenticator app (only on a terminal, or with
     --show-secret; --seed-out FILE writes the seed for automation)
  3. two codes in a row from the app (the second after it changes), checked here first
  4. iam:EnableMFADevice, then mfa_serial written into the profile in ~/.aws/config
A device created by a run that fails or is interrupted is deleted again.

Examples:
  awsmfa enroll --profile work
  awsmfa enroll --serial arn:aws:iam::123456789012:mfa/yubikey     a hardware device
  awsmfa enroll --user bob                  for another user (an administrator's keys)")]
    Enroll(EnrollArgs),

    /// Check every link from the AWS files to a working MFA session, and say how to fix it
    #[command(after_help = "\
Checks, in order: the files; the profile (and where each setting came from); the cache
directory; the cached session; credential_process lines that run awsmfa; the long-term keys
(sts:GetCallerIdentity); the endpoint and its time limits; this machine's clock against
AWS's (warn above 10 s, FAIL above 30 s: MFA codes are refused); the MFA device
(iam:ListMFADevices); with an image, the policy (an EC2 dry run with the long-term keys must
be denied). Nothing is written, launched or logged in.

Exit codes: 0 nothing failed (warnings allowed), 8 a check failed.

Examples:
  awsmfa doctor
  awsmfa doctor --profile work --image-id ami-0d592b9373fad0e2c --json")]
    Doctor(DoctorArgs),

    /// Keep long-term keys out of plain text: the OS keychain or an encrypted file
    #[command(after_help = "\
Examples:
  awsmfa keys import work        move [work]'s keys from ~/.aws/credentials into the keystore
  awsmfa keys add work           store new keys (asked on the terminal, or read from stdin)
  awsmfa keys list
  awsmfa keys rotate work        a new access key under MFA; the old one deleted
  awsmfa keys remove work --restore      put the keys back into ~/.aws/credentials

A profile in the keystore keeps in ~/.aws/config only its key id and
  credential_process = awsmfa credential-process --profile work
so every AWS tool gets MFA credentials through awsmfa. A cached session is served without
touching the keystore (no keychain prompt, no passphrase).

Backends: keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on
Windows) or file (age, encrypted with a passphrase: AWSMFA_KEYSTORE_PASSPHRASE, or asked on
the terminal; AWSMFA_KEYSTORE_FILE, default ~/.aws/awsmfa-keys.age). New entries go to
--keystore, else AWSMFA_KEYSTORE, else keychain when a desktop session (D-Bus) is there and
file when not. The profile's awsmfa_keystore says where its keys are.")]
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },

    /// Print a shell completion script
    #[command(after_help = "\
Examples:
  awsmfa completions bash > ~/.local/share/bash-completion/completions/awsmfa
  awsmfa completions zsh > \"${fpath[1]}/_awsmfa\"
  awsmfa completions fish > ~/.config/fish/completions/awsmfa.fish")]
    Completions {
        /// bash, zsh, fish, powershell or elvish
        shell: clap_complete::Shell,
        #[command(flatten)]
        unused: NoProfile,
    },

    /// Print the man page awsmfa(1) (roff), or write it and one page a command with --dir
    #[command(after_help = "\
Examples:
  awsmfa man --dir ~/.local/share/man/man1     awsmfa.1, awsmfa-login.1, awsmfa-keys-import.1, ...
  awsmfa man | man -l -                        read awsmfa(1) now

awsmfa(1) names a page for each command (awsmfa-login(1), ...): install them all with --dir.")]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write awsmfa.1 and a page for every command (awsmfa-login.1, awsmfa-keys-import.1,
    /// ...) into DIR, made if missing; prints the paths written
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub unused: NoProfile,
}

/// The global --profile and --region mean nothing to `man` and `completions`: these hidden
/// flags of the same names take their place there, so their help does not list them (and
/// a --profile given anyway is accepted and ignored).
#[derive(Debug, Args, Clone, Default)]
pub struct NoProfile {
    #[arg(long, hide = true, value_name = "NAME")]
    profile: Option<String>,
    #[arg(long, hide = true, value_name = "REGION")]
    region: Option<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON: one object a check (check, status, detail, fix)
    #[arg(long)]
    pub json: bool,
    /// An AMI to dry-run a launch with, for the policy check
    #[arg(long, env = "AWS_IMAGE_ID", value_name = "AMI")]
    pub image_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// Enroll this IAM user instead of the one whose keys sign (needs IAM rights over it)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// The virtual device's name [default: the user's name]
    #[arg(long, value_name = "NAME")]
    pub device_name: Option<String>,
    /// Enable this existing (hardware) device instead of creating a virtual one
    #[arg(long, value_name = "ARN")]
    pub serial: Option<String>,
    /// Show the QR code and the seed even when stdout is not a terminal
    #[arg(long)]
    pub show_secret: bool,
    /// Also write the seed (base32) to FILE, mode 0600, for automation: whoever can read it
    /// has your second factor
    #[arg(long, value_name = "FILE")]
    pub seed_out: Option<PathBuf>,
}

/// The `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Store a profile's keys in the keystore: asked on the terminal (the secret without
    /// echo) or read from the standard input, never from flags
    #[command(after_help = "\
Examples:
  awsmfa keys add work                              asks for the key id and the secret
  printf '%s\\n' AKIA... SECRET | awsmfa keys add ci --keystore file
  awsmfa keys add work < alice_accessKeys.csv       the IAM console's download")]
    Add(KeysAddArgs),
    /// Move a profile's keys from ~/.aws/credentials into the keystore (proven first with
    /// sts:GetCallerIdentity; then only their two lines are removed from the file)
    #[command(after_help = "\
Examples:
  awsmfa keys import work                           the keychain (or the file keystore without one)
  awsmfa keys import work --keystore file --backup ~/work-keys.bak

The profile then reaches its keys through `credential_process = awsmfa credential-process`,
so every AWS tool keeps working. A section that sets a key twice is refused: say which pair.")]
    Import(KeysImportArgs),
    /// List the profiles whose keys are in the keystore
    #[command(after_help = "\
Examples:
  awsmfa keys list                                  profile, key, keystore, age, state
  awsmfa keys list --json | jq -r '.[] | select(.age_days > 90) | .profile'")]
    List(KeysListArgs),
    /// Delete a profile's keys from the keystore (--restore: back into ~/.aws/credentials)
    #[command(after_help = "\
Examples:
  awsmfa keys remove work --restore                 the keys back in plain text, then removed
  awsmfa keys remove old-job --yes                  deleted (the key itself stays in IAM)

--restore never overwrites other keys already in that section of ~/.aws/credentials.")]
    Remove(KeysRemoveArgs),
    /// Replace a profile's access key with a new one, under MFA, then delete the old one
    #[command(after_help = "\
Steps (each recorded, so a run killed anywhere is finished by running it again):
  1. the MFA session (cached, or a login)     4. the new key replaces the old one where it is kept
  2. iam:CreateAccessKey                      5. iam:DeleteAccessKey of the old key
  3. the new key proven (sts:GetCallerIdentity, retried while IAM catches up)

Works for keys in the keystore and in ~/.aws/credentials. AWS allows two keys per user: with
two already, awsmfa names them and stops. Two rotations of one profile take turns.

Example:
  awsmfa keys rotate work                           uses the cached MFA session, or asks a code")]
    Rotate(KeysRotateArgs),
}

/// The profile a `keys` command works on.
#[derive(Debug, Args, Clone)]
pub struct KeysProfile {
    /// The profile [default: --profile, AWS_PROFILE, else default]
    #[arg(value_name = "PROFILE")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeystoreChoice {
    /// The OS keychain
    Keychain,
    /// An age file encrypted with a passphrase
    File,
}

impl From<KeystoreChoice> for crate::keystore::Backend {
    fn from(choice: KeystoreChoice) -> Self {
        match choice {
            KeystoreChoice::Keychain => crate::keystore::Backend::Keychain,
            KeystoreChoice::File => crate::keystore::Backend::File,
        }
    }
}

#[derive(Debug, Args)]
pub struct KeysAddArgs {
    #[command(flatten)]
    pub profile: KeysProfile,
    /// Where to keep the keys [env: AWSMFA_KEYSTORE]
    #[arg(long, value_enum)]
    pub keystore: Option<KeystoreChoice>,
}

#[derive(Debug, Args)]
pub struct KeysImportArgs {
    #[command(flatten)]
    pub profile: KeysProfile,
    /// Where to keep the keys [env: AWSMFA_KEYSTORE]
    #[arg(long, value_enum)]
    pub keystore: Option<KeystoreChoice>,
    /// First copy the credentials file to PATH (mode 0600; it holds the keys in plain text)
    #[arg(long, value_name = "PATH")]
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeysListArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeysRemoveArgs {
    #[command(flatten)]
    pub profile: KeysProfile,
    /// Put the keys back into the profile in ~/.aws/credentials (plain text) first
    #[arg(long)]
    pub restore: bool,
    /// Delete without asking (the secret is gone for good: the key stays in IAM, unusable)
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct KeysRotateArgs {
    #[command(flatten)]
    pub profile: KeysProfile,
    #[command(flatten)]
    pub session: SessionArgs,
    /// How long to wait for IAM to accept the new key
    #[arg(long, default_value = "2m", value_name = "DURATION", value_parser = parse_duration)]
    pub wait: u64,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Get a new session even if the cached one is still valid
    #[arg(long)]
    pub force: bool,
    /// Also write the session into section [NAME] of ~/.aws/credentials
    #[arg(long, value_name = "NAME")]
    pub write_profile: Option<String>,
    /// Also write the STS-shaped JSON the manual recipe saved (0600; never through a link,
    /// never over a file of another user)
    #[arg(long, value_name = "PATH")]
    pub save_json: Option<PathBuf>,
    /// Sign in at the AWS console in a browser (AWS Sign-In, as `aws login` does) and write
    /// login_session into the profile: no long-term keys, any MFA the console takes
    #[arg(long)]
    pub console: bool,
    /// With --console: sign in on another device (print the URL, paste the code it shows)
    #[arg(long, requires = "console")]
    pub remote: bool,
    /// With --console: do not open a browser, only print the URL
    #[arg(long, requires = "console")]
    pub no_browser: bool,
    /// With --console: give up after this long without the browser's answer (or the pasted
    /// code)
    #[arg(long, requires = "console", default_value = "10m", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: u64,
    /// With --console: keep the session (its refresh token and key) in the keystore, not in
    /// the AWS CLI's plain file; other tools reach it through credential_process, which this
    /// writes into the profile. Without a value: the profile's keystore when it keeps its session
    /// in one, else AWSMFA_KEYSTORE, else the default
    #[arg(long, requires = "console", value_enum, num_args = 0..=1, value_name = "KEYSTORE")]
    pub keystore: Option<Option<KeystoreChoice>>,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Output format
    #[arg(long, value_enum, default_value = crate::platform::DEFAULT_FORMAT)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Run even inside another `awsmfa exec` (AWSMFA_PROFILE is set)
    #[arg(long)]
    pub force: bool,
    /// Give the command a local credential endpoint instead of fixed keys: it refreshes
    /// on its own past the end of the session
    #[arg(long)]
    pub server: bool,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub session: SessionArgs,
    /// Where to listen
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Shell syntax of the printed variables
    #[arg(long, value_enum, default_value = crate::platform::DEFAULT_FORMAT)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Print nothing; exit 0 if a valid session is cached, 1 if not
    #[arg(long)]
    pub check: bool,
    /// With --check: a session counts as valid only with more than this left
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub min_ttl: Option<u64>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Delete every cached session, for every profile
    #[arg(long)]
    pub all: bool,
    /// Also remove section [NAME] that `login --write-profile NAME` wrote
    #[arg(long, value_name = "NAME")]
    pub write_profile: Option<String>,
}

/// What to launch: shared by `verify` and `launch`.
#[derive(Debug, Args, Clone)]
pub struct InstanceArgs {
    /// AMI to launch (required: the flag or the variable)
    #[arg(long, env = "AWS_IMAGE_ID", value_name = "AMI")]
    pub image_id: Option<String>,
    /// Key pair for SSH [also read from SENZING_AWS_KEYPAIR, the manual recipe's name]
    #[arg(long, env = "AWSMFA_KEY_NAME", value_name = "NAME")]
    pub key_name: Option<String>,
    /// Instance type
    #[arg(long, default_value = "t2.micro", value_name = "TYPE")]
    pub instance_type: String,
}

/// Waiting for instances.
#[derive(Debug, Args, Clone)]
pub struct WaitArgs {
    /// Give up waiting after this long (the instances are left as they are)
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub instance: InstanceArgs,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// After the dry runs, launch for real and wait until running
    #[arg(long)]
    pub launch: bool,
    /// With --launch: terminate the instance afterwards and wait until terminated
    #[arg(long, requires = "launch")]
    pub terminate: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LaunchArgs {
    #[command(flatten)]
    pub instance: InstanceArgs,
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(flatten)]
    pub wait_args: WaitArgs,
    /// How many instances
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=100))]
    pub count: i32,
    /// Subnet to launch into
    #[arg(long, value_name = "ID")]
    pub subnet_id: Option<String>,
    /// Security group (repeat for several)
    #[arg(long = "security-group-id", value_name = "ID")]
    pub security_group_ids: Vec<String>,
    /// Name tag
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Extra tag (repeat for several)
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// Wait until every instance is running, then show its addresses
    #[arg(long)]
    pub wait: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("'{text}' is not KEY=VALUE")),
    }
}

#[derive(Debug, Args)]
pub struct InstancesArgs {
    /// Every instance, not only those awsmfa launched
    #[arg(long)]
    pub all: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct TerminateArgs {
    /// Instance ids
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Do not ask for confirmation
    #[arg(long, short)]
    pub yes: bool,
    /// Also terminate instances not tagged created-by=awsmfa
    #[arg(long)]
    pub any: bool,
    /// Wait until terminated
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub wait_args: WaitArgs,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// What the policy protects
    #[arg(long, value_enum, default_value = "all")]
    pub scope: PolicyScope,
    /// Attach the policy (inline) instead of printing it, to --user or --group
    #[arg(long)]
    pub apply: bool,
    /// The IAM user to attach it to
    #[arg(long, value_name = "NAME", requires = "apply", conflicts_with = "group")]
    pub user: Option<String>,
    /// The IAM group to attach it to
    #[arg(long, value_name = "NAME", requires = "apply")]
    pub group: Option<String>,
    /// The inline policy's name
    #[arg(long, value_name = "NAME", default_value = "awsmfa-require-mfa", requires = "apply")]
    pub name: String,
    /// Print the calls and the document; change nothing
    #[arg(long, requires = "apply")]
    pub dry_run: bool,
    /// Replace a policy of that name whose content differs (shown first)
    #[arg(long, requires = "apply")]
    pub replace: bool,
    /// After applying, prove it by EC2 dry runs with this AMI (verify's pre-test and post-test)
    #[arg(long, env = "AWS_IMAGE_ID", value_name = "AMI")]
    pub image_id: Option<String>,
    #[command(flatten)]
    pub session: SessionArgs,
}
