//! The AWS SDKs' published shared-config test suite (tests/data/, from smithy-rs, unmodified),
//! run through awsmfa's own reading path: `config::AwsFiles` for the parser cases, and
//! `profile::locate` + `Settings::resolve` for the file-location cases. Every case must pass;
//! the few the suite holds that awsmfa does not look at (SSO sessions, Windows homes) are
//! named below and counted, so none can silently drop out.

use std::collections::{BTreeMap, BTreeSet};

use awsmfa::config::{AwsFiles, Source};
use awsmfa::profile::{Environment, LoadedFiles, Overrides, Settings, locate};
use serde_json::Value;

fn suite(name: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["tests"].as_array().unwrap().clone()
}

/// Every key a case could make a parser produce: the keys of every expected profile in the
/// suite, and every `key =` of the inputs (a parser that invents a key is caught too).
fn key_universe(cases: &[Value]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for case in cases {
        if let Some(profiles) = case["output"]["config"]["profiles"].as_object() {
            for props in profiles.values() {
                keys.extend(props.as_object().unwrap().keys().cloned());
            }
        }
        for file in ["configFile", "credentialsFile"] {
            for line in case["input"][file].as_str().unwrap_or("").lines() {
                if let Some((key, _)) = line.split_once('=') {
                    keys.insert(key.trim().to_ascii_lowercase());
                }
            }
        }
    }
    keys
}

#[test]
fn the_published_profile_parser_suite_passes() {
    let cases = suite("profile-parser-tests.json");
    assert_eq!(cases.len(), 65, "the whole suite is here");
    let universe = key_universe(&cases);
    let mut failures = Vec::new();
    let mut sso_cases = 0;
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let text = |f: &str| case["input"][f].as_str().unwrap_or("").to_string();
        let parsed = AwsFiles::parse(
            &Source { path: "/home/u/.aws/config".into(), text: text("configFile") },
            &Source { path: "/home/u/.aws/credentials".into(), text: text("credentialsFile") },
        );
        if let Some(expected) = case["output"]["errorContaining"].as_str() {
            match parsed {
                Err(e) if e.message.to_lowercase().contains(&expected.to_lowercase()) => {}
                Err(e) => failures.push(format!("{name}: error {:?} lacks {expected:?}", e.message)),
                Ok(_) => failures.push(format!("{name}: parsed, expected an error containing {expected:?}")),
            }
            continue;
        }
        let files = match parsed {
            Ok(files) => files,
            Err(e) => {
                failures.push(format!("{name}: unexpected error {}", e.message));
                continue;
            }
        };
        if case["output"]["config"].get("sso_sessions").is_some() {
            sso_cases += 1; // awsmfa reads no SSO sessions; their profiles are still checked
        }
        let expected: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_value(case["output"]["config"]["profiles"].clone()).unwrap();
        let names: Vec<String> = expected.keys().cloned().collect();
        if files.profile_names() != names {
            failures.push(format!("{name}: profiles {:?}, expected {names:?}", files.profile_names()));
        }
        for (profile, props) in &expected {
            for key in &universe {
                let got = files.value(profile, key);
                if got != props.get(key).map(String::as_str) {
                    failures.push(format!("{name}: [{profile}] {key} = {got:?}, expected {:?}", props.get(key)));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
    assert_eq!(sso_cases, 3, "cases with SSO sessions, whose sessions awsmfa does not read");
}

#[test]
fn the_published_file_location_suite_passes_on_this_platform() {
    let cases = suite("file-location-tests.json");
    let here = if cfg!(windows) { "windows" } else { "linux" };
    let mine: Vec<&Value> = cases.iter().filter(|c| c["platform"] == here).collect();
    assert_eq!(mine.len(), if cfg!(windows) { 5 } else { 4 });
    for case in mine {
        let name = case["name"].as_str().unwrap();
        let pairs: Vec<(String, String)> = case["environment"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let env = Environment::from_pairs(&refs);
        let paths = locate(&env).unwrap_or_else(|e| panic!("{name}: {}", e.message));
        assert_eq!(paths.config.to_str(), case["configLocation"].as_str(), "{name}");
        assert_eq!(paths.credentials.to_str(), case["credentialsLocation"].as_str(), "{name}");
        if let Some(profile) = case["profile"].as_str() {
            let settings = Settings::resolve(&env, &paths, &LoadedFiles::default(), &Overrides::default()).unwrap();
            assert_eq!(settings.profile, profile, "{name}");
        }
    }
}
