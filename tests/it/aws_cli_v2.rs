//! The AWS CLI v2 and awsmfa sharing one console sign-in session, both ways: `aws login`
//! signs in at the emulator's page and awsmfa uses (and renews) the session it wrote; the
//! CLI then uses the file awsmfa renewed. The AWS CLI v2 is not in any package registry
//! (PyPI's `awscli` is v1), so this runs only where one is installed: set AWSMFA_AWS_CLI_V2
//! to its `aws` (for example one built from the v2 branch of aws/aws-cli with
//! `pip install .`); without it the test says so and passes, as a CI machine has none.

use crate::common::{self, World};
use std::process::Stdio;

#[test]
fn the_aws_cli_v2_and_awsmfa_share_a_console_session_both_ways() {
    let Ok(aws) = std::env::var("AWSMFA_AWS_CLI_V2") else {
        eprintln!("AWSMFA_AWS_CLI_V2 is not set: the AWS CLI v2 interop test did not run");
        return;
    };
    let w = World::with_fixture(&["--password", "correct-horse-9"]);
    w.config("[profile v2]\nregion = us-east-1\n");
    // `aws login`, with the person opening the URL it prints (its own browser call is the
    // desktop's, which a test machine has not).
    let out = w.path("aws-login.out");
    let mut login = w
        .command(&aws)
        .args(["login", "--profile", "v2"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .env("BROWSER", "true")
        .spawn()
        .unwrap();
    let url = crate::console::wait_for_url(&out, &mut login);
    let person = w
        .command(common::python())
        .arg(common::repo().join("tests/support/browser.py"))
        .arg(&url)
        .env("SIGNIN_USER", &w.user.name)
        .env("SIGNIN_PASSWORD", "correct-horse-9")
        .env("SIGNIN_SEED", &w.user.seed)
        .status()
        .unwrap();
    assert!(person.success());
    assert!(login.wait().unwrap().success(), "{}", std::fs::read_to_string(&out).unwrap());
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    assert!(config.contains(&format!("login_session = {}", w.user.arn)), "{config}");

    // awsmfa uses the CLI's session as it is, then renews it with the CLI's DPoP key.
    let env = w.awsmfa().args(["env", "--profile", "v2", "--format", "dotenv"]).assert().success();
    assert!(String::from_utf8_lossy(&env.get_output().stdout).contains("AWS_ACCESS_KEY_ID=ASIA"));
    let dir = w.path(".aws/login/cache");
    let file = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).next().unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    v["accessToken"]["expiresAt"] = "2000-01-01T00:00:00Z".into();
    std::fs::write(&file, v.to_string()).unwrap();
    w.awsmfa().args(["env", "--profile", "v2"]).assert().success();
    let stats = common::hook("GET", "/_awsmfa/stats");
    assert_eq!(stats["signin_token"][w.user.arn.as_str()]["refresh_token"], 1, "awsmfa renewed the CLI's session");

    // And the CLI uses the file awsmfa renewed.
    let who =
        w.command(&aws).args(["sts", "get-caller-identity", "--profile", "v2", "--output", "json"]).output().unwrap();
    assert!(who.status.success(), "{}", String::from_utf8_lossy(&who.stderr));
    let v: serde_json::Value = serde_json::from_slice(&who.stdout).unwrap();
    assert_eq!(v["Arn"], w.user.arn.as_str());
    assert_eq!(
        common::hook("GET", "/_awsmfa/stats")["signin_token"][w.user.arn.as_str()]["refresh_token"],
        1,
        "the CLI took awsmfa's renewal, no renewal of its own"
    );
}
