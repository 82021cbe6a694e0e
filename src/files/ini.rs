//! The AWS INI files (`~/.aws/config`, `~/.aws/credentials`): reading them as the AWS CLI
//! does, and rewriting one section while every other byte of the file stays as it was
//! (comments, blank lines, order, other sections, CRLF line endings).
//! Pure text in, text out: no I/O here (see `files::atomic` for writing).

#[derive(Debug, Clone, PartialEq, Eq)]
enum LineKind {
    Blank,
    Comment,
    Header(String),
    Entry(String, String),
    Continuation,
}

fn classify(line: &str) -> Option<LineKind> {
    let body = line.trim_end_matches(['\n', '\r']);
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return Some(LineKind::Blank);
    }
    if trimmed.starts_with('#') || trimmed.starts_with(';') {
        return Some(LineKind::Comment);
    }
    if body.starts_with([' ', '\t']) {
        return Some(LineKind::Continuation);
    }
    if trimmed.starts_with('[') {
        let end = trimmed.find(']')?;
        return Some(LineKind::Header(identity(&trimmed[1..end])));
    }
    let at = trimmed.find(['=', ':'])?;
    let key = trimmed[..at].trim();
    if key.is_empty() {
        return None;
    }
    Some(LineKind::Entry(key.to_ascii_lowercase(), trimmed[at + 1..].trim().to_string()))
}

/// A section's name as the AWS SDKs read it, so that an edit lands in the section they read:
/// `[profile  work]`, `[profile<TAB>work]` and `[ profile work ]` are all `profile work`
/// (aws-runtime's `env_config/normalize.rs` splits the header at its first space or tab and
/// trims both parts).
fn identity(header: &str) -> String {
    let header = header.trim_matches([' ', '\t']);
    match header.split_once([' ', '\t']) {
        Some((prefix, rest)) => format!("{} {}", prefix.trim(), rest.trim()),
        None => header.trim().to_string(),
    }
}

/// The section of a config file `text` that the SDKs read for `profile`: `profile NAME`; for
/// `default`, `default`, or `profile default` when the file has that section (the SDKs then
/// ignore `[default]`).
pub fn config_section(text: &str, profile: &str) -> String {
    if profile != "default" {
        return format!("profile {profile}");
    }
    let prefixed = LineKind::Header("profile default".into());
    if text.split_inclusive('\n').any(|l| classify(l).as_ref() == Some(&prefixed)) {
        "profile default".into()
    } else {
        "default".into()
    }
}

/// How many lines set `key` in `[name]`, duplicate `[name]` sections included. More than one
/// means the SDKs use only the last, and an edit of that key cannot tell which one is meant.
pub fn key_lines(text: &str, name: &str, key: &str) -> usize {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    owned_ranges(&lines, name)
        .into_iter()
        .flat_map(|(start, end)| lines[start..end].iter())
        .filter(|l| matches!(classify(l), Some(LineKind::Entry(k, _)) if k == key))
        .count()
}

/// Whether `name` can be written as `[name]` and read back as the same name.
pub fn valid_section_name(name: &str) -> bool {
    !name.is_empty() && name.trim() == name && !name.contains(['[', ']', '\n', '\r', '#', ';'])
}

/// The line ending a file already uses; new lines follow it.
fn line_ending(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// Where a section's own lines are: its header up to its last setting. Comments and blank
/// lines after the last setting stay where they are: they usually introduce the next section.
fn owned_ranges(lines: &[&str], name: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if classify(lines[i]) == Some(LineKind::Header(identity(name))) {
            let start = i;
            let mut end = i + 1;
            let mut j = i + 1;
            while j < lines.len() {
                match classify(lines[j]) {
                    Some(LineKind::Header(_)) => break,
                    Some(LineKind::Entry(..)) | Some(LineKind::Continuation) | None => end = j + 1,
                    // awsmfa's own note belongs to the section it was written in.
                    Some(LineKind::Comment) if lines[j].trim_start().starts_with(NOTE_PREFIX) => end = j + 1,
                    _ => {}
                }
                j += 1;
            }
            ranges.push((start, end));
            i = j;
        } else {
            i += 1;
        }
    }
    ranges
}

/// Writes section `[name]` with exactly `body` (lines without endings, e.g. `key = value` or
/// `# comment`) in place of its old lines, or appends it when the file has no such section.
/// A duplicate `[name]` further down is removed so the file keeps one meaning.
pub fn replace_section(text: &str, name: &str, body: &[String]) -> String {
    let eol = line_ending(text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut block = format!("[{name}]{eol}");
    for line in body {
        block.push_str(line);
        block.push_str(eol);
    }
    let ranges = owned_ranges(&lines, name);
    let mut out = String::with_capacity(text.len() + block.len());
    if ranges.is_empty() {
        out.push_str(text);
        if !out.is_empty() {
            if !out.ends_with('\n') {
                out.push_str(eol);
            }
            if !(out.ends_with("\n\n") || out.ends_with("\r\n\r\n")) {
                out.push_str(eol);
            }
        }
        out.push_str(&block);
        return out;
    }
    let mut i = 0;
    for (n, (start, end)) in ranges.iter().enumerate() {
        for line in &lines[i..*start] {
            out.push_str(line);
        }
        if n == 0 {
            out.push_str(&block);
        }
        i = *end;
    }
    // The old section's last line may have lacked a newline; the new block always ends in one.
    for line in &lines[i..] {
        out.push_str(line);
    }
    out
}

/// The comment line awsmfa puts in a section it wrote; only such a line is ever replaced.
pub const NOTE_PREFIX: &str = "# written by awsmfa";

/// The line ending of one line: "\r\n", "\n", or "" for a last line without one.
fn ending_of(line: &str) -> &str {
    let body = line.trim_end_matches(['\n', '\r']);
    &line[body.len()..]
}

/// Sets `keys` in section `[name]` and leaves every other byte alone: a key's first line is
/// rewritten in place (its later duplicates and continuation lines dropped), a key not yet
/// there is added after the section's last setting, a key with `None` is removed. `note`
/// (a line starting with `NOTE_PREFIX`) replaces the note awsmfa wrote before, or goes right
/// under the header; `None` removes an old note. A missing section is appended when there is
/// anything to write. Other settings, comments and blank lines of the section stay.
pub fn set_keys(text: &str, name: &str, keys: &[(&str, Option<&str>)], note: Option<&str>) -> String {
    edit_keys(text, name, keys, Some(note))
}

/// Removes exactly the lines of `keys` (and their continuation lines) from `[name]`: every
/// other byte stays, awsmfa's note and an emptied header included.
pub fn unset_keys(text: &str, name: &str, keys: &[&str]) -> String {
    let unset: Vec<(&str, Option<&str>)> = keys.iter().map(|k| (*k, None)).collect();
    edit_keys(text, name, &unset, None)
}

/// Sets `keys` in `[name]` as `set_keys` does, leaving awsmfa's note as it is.
pub fn replace_keys(text: &str, name: &str, keys: &[(&str, Option<&str>)]) -> String {
    edit_keys(text, name, keys, None)
}

/// `set_keys`, where `note: None` leaves awsmfa's note as it is.
fn edit_keys(text: &str, name: &str, keys: &[(&str, Option<&str>)], note: Option<Option<&str>>) -> String {
    let keep_note = note.is_none();
    let note = note.flatten();
    let eol = line_ending(text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let ranges = owned_ranges(&lines, name);
    let Some(&(first_start, first_end)) = ranges.first() else {
        let body: Vec<String> = note
            .map(str::to_string)
            .into_iter()
            .chain(keys.iter().filter_map(|(k, v)| v.map(|v| format!("{k} = {v}"))))
            .collect();
        if keys.iter().all(|(_, v)| v.is_none()) {
            return text.to_string();
        }
        return replace_section(text, name, &body);
    };
    let is_note = |line: &str| line.trim_start().starts_with(NOTE_PREFIX);
    let in_ranges = |i: usize| ranges.iter().any(|(s, e)| (*s..*e).contains(&i));
    let has_note = (0..lines.len()).any(|i| in_ranges(i) && is_note(lines[i]));
    let mut written: Vec<&str> = Vec::new();
    let mut note_written = false;
    let mut dropping_continuation = false;
    let mut out = String::with_capacity(text.len() + 256);
    for (i, line) in lines.iter().enumerate() {
        if !in_ranges(i) {
            out.push_str(line);
            continue;
        }
        let ending = match ending_of(line) {
            "" => eol,
            e => e,
        };
        match classify(line) {
            Some(LineKind::Entry(key, _)) if keys.iter().any(|(k, _)| *k == key) => {
                dropping_continuation = true;
                let (k, value) = keys.iter().find(|(k, _)| *k == key).expect("found above");
                if let Some(value) = value.filter(|_| !written.contains(k)) {
                    out.push_str(&format!("{k} = {value}{ending}"));
                    written.push(k);
                }
            }
            Some(LineKind::Continuation) if dropping_continuation => {}
            // Comments and blank lines do not end a setting: an indented line after them still
            // continues it (as the parser reads it), so they leave `dropping_continuation` be.
            Some(LineKind::Comment) if is_note(line) && !keep_note => {
                if let Some(note) = note.filter(|_| !note_written) {
                    out.push_str(&format!("{note}{ending}"));
                    note_written = true;
                }
            }
            kind => {
                if !matches!(kind, Some(LineKind::Comment) | Some(LineKind::Blank)) {
                    dropping_continuation = false;
                }
                out.push_str(line);
                if i == first_start
                    && matches!(kind, Some(LineKind::Header(_)))
                    && !has_note
                    && let Some(note) = note
                {
                    if !out.ends_with('\n') {
                        out.push_str(eol);
                    }
                    out.push_str(&format!("{note}{eol}"));
                }
            }
        }
        if i + 1 == first_end {
            for (k, v) in keys {
                if let Some(v) = v.filter(|_| !written.contains(k)) {
                    if !out.ends_with('\n') {
                        out.push_str(eol);
                    }
                    out.push_str(&format!("{k} = {v}{eol}"));
                    written.push(k);
                }
            }
        }
    }
    out
}

/// Removes `keys` and awsmfa's note from `[name]`; the header goes too when no setting
/// would be left under it. None when there is no such section.
pub fn remove_keys(text: &str, name: &str, keys: &[&str]) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if owned_ranges(&lines, name).is_empty() {
        return None;
    }
    let unset: Vec<(&str, Option<&str>)> = keys.iter().map(|k| (*k, None)).collect();
    let edited = set_keys(text, name, &unset, None);
    let lines: Vec<&str> = edited.split_inclusive('\n').collect();
    // Empty: no setting left between each `[name]` and the next header. Comments there stay
    // (they usually introduce the next section); only the header goes.
    let empty = owned_ranges(&lines, name).iter().all(|(start, _)| {
        lines[start + 1..]
            .iter()
            .take_while(|l| !matches!(classify(l), Some(LineKind::Header(_))))
            .all(|l| matches!(classify(l), Some(LineKind::Blank) | Some(LineKind::Comment)))
    });
    if empty { remove_section(&edited, name) } else { Some(edited) }
}

/// Removes every `[name]` section (header and settings); returns None when there was none.
pub fn remove_section(text: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let ranges = owned_ranges(&lines, name);
    if ranges.is_empty() {
        return None;
    }
    let blank = |line: &str| classify(line) == Some(LineKind::Blank);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    for (mut start, end) in ranges {
        // Take one blank line with it when blank lines would otherwise meet (or end the file):
        // the blank line `replace_section` put before a section it appended.
        if start > i && blank(lines[start - 1]) && (end == lines.len() || blank(lines[end])) {
            start -= 1;
        }
        for line in &lines[i..start] {
            out.push_str(line);
        }
        i = end;
    }
    for line in &lines[i..] {
        out.push_str(line);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    const FILE: &str = "# my AWS keys\n[default]\naws_access_key_id = AKIA1\n\n; work\n[work]\naws_access_key_id=AKIA2\naws_secret_access_key = s2\n\n# the session\n[session]\naws_access_key_id = OLD\naws_session_token = T\n\n[zeta]\nregion = eu-west-1\n";

    #[test]
    fn replacing_a_section_keeps_every_other_byte() {
        let out = replace_section(FILE, "session", &body(&["# expires X", "aws_access_key_id = NEW"]));
        let expected = FILE.replace(
            "[session]\naws_access_key_id = OLD\naws_session_token = T\n",
            "[session]\n# expires X\naws_access_key_id = NEW\n",
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn a_missing_section_is_appended_after_one_blank_line() {
        let out = replace_section("[a]\nx = 1\n", "b", &body(&["y = 2"]));
        assert_eq!(out, "[a]\nx = 1\n\n[b]\ny = 2\n");
        let out = replace_section("[a]\nx = 1", "b", &body(&["y = 2"]));
        assert_eq!(out, "[a]\nx = 1\n\n[b]\ny = 2\n");
        assert_eq!(replace_section("", "b", &body(&["y = 2"])), "[b]\ny = 2\n");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = "[a]\r\nx = 1\r\n\r\n[b]\r\ny = 2\r\n";
        let out = replace_section(text, "a", &body(&["x = 9"]));
        assert_eq!(out, "[a]\r\nx = 9\r\n\r\n[b]\r\ny = 2\r\n");
        let out = replace_section(text, "c", &body(&["z = 3"]));
        assert_eq!(out, "[a]\r\nx = 1\r\n\r\n[b]\r\ny = 2\r\n\r\n[c]\r\nz = 3\r\n");
    }

    #[test]
    fn the_last_section_without_final_newline_is_replaced_cleanly() {
        let out = replace_section("[a]\nx = 1\n\n[b]\ny = 2", "b", &body(&["y = 3"]));
        assert_eq!(out, "[a]\nx = 1\n\n[b]\ny = 3\n");
    }

    #[test]
    fn duplicates_collapse_into_the_first_place() {
        let out = replace_section("[s]\na = 1\n[t]\nb = 2\n[s]\nc = 3\n", "s", &body(&["d = 4"]));
        assert_eq!(out, "[s]\nd = 4\n[t]\nb = 2\n");
    }

    #[test]
    fn appending_then_removing_gives_back_the_original() {
        for original in ["[a]\nx = 1\n", "[a]\nx = 1\n\n# end\n", ""] {
            let added = replace_section(original, "b", &body(&["y = 2"]));
            assert_eq!(remove_section(&added, "b").unwrap(), original);
        }
    }

    #[test]
    fn section_names_that_would_break_the_file_are_invalid() {
        assert!(valid_section_name("mfa"));
        assert!(valid_section_name("work-mfa.prod_1"));
        for bad in ["", " mfa", "a]b", "a\n[b]", "x#y"] {
            assert!(!valid_section_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn removing_a_section_keeps_its_neighbours() {
        let out = remove_section(FILE, "work").unwrap();
        assert_eq!(out, FILE.replace("[work]\naws_access_key_id=AKIA2\naws_secret_access_key = s2\n", ""));
        let out = remove_section(FILE, "session").unwrap();
        assert_eq!(out, FILE.replace("[session]\naws_access_key_id = OLD\naws_session_token = T\n", ""));
        assert_eq!(remove_section(FILE, "nope"), None);
    }

    #[test]
    fn set_keys_rewrites_in_place_keeps_other_lines_and_appends_what_is_missing() {
        let text = "[a]\nx = 1\n[sess]\nregion = eu-west-1\naws_access_key_id = OLD\n  nested = 1\n# mine\naws_session_token = OLD\n\n[b]\ny = 2\n";
        let keys = [
            ("aws_access_key_id", Some("NEW")),
            ("aws_secret_access_key", Some("S")),
            ("aws_session_token", Some("T")),
        ];
        let out = set_keys(text, "sess", &keys, Some("# written by awsmfa; expires X"));
        assert_eq!(
            out,
            "[a]\nx = 1\n[sess]\n# written by awsmfa; expires X\nregion = eu-west-1\naws_access_key_id = NEW\n# mine\naws_session_token = T\naws_secret_access_key = S\n\n[b]\ny = 2\n"
        );
        let again = set_keys(&out, "sess", &keys, Some("# written by awsmfa; expires Y"));
        assert_eq!(again, out.replace("expires X", "expires Y"), "the note is replaced, not added");
        let removed = remove_keys(&again, "sess", &["aws_access_key_id", "aws_secret_access_key", "aws_session_token"]);
        assert_eq!(removed.unwrap(), "[a]\nx = 1\n[sess]\nregion = eu-west-1\n# mine\n\n[b]\ny = 2\n");
    }

    #[test]
    fn a_section_left_empty_is_removed_whole() {
        let text = "[a]\nx = 1\n\n[mfa]\naws_access_key_id = K\naws_session_token = T\n";
        assert_eq!(remove_keys(text, "mfa", &["aws_access_key_id", "aws_session_token"]).unwrap(), "[a]\nx = 1\n");
        assert_eq!(remove_keys(text, "nope", &["aws_access_key_id"]), None);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        const MANAGED: [&str; 3] = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"];
        const NAMES: [&str; 6] = ["a", "b", "default", "profile a", "mfa", "mfa-long-term"];
        const KEYS: [&str; 5] = ["aws_access_key_id", "aws_session_token", "aws_secret_access_key", "region", "x"];

        /// The file as a credentials file, read by the AWS SDK's parser (None: it refuses it).
        fn sdk(text: &str) -> Option<crate::config::AwsFiles> {
            let credentials = crate::config::Source { path: "/credentials".into(), text: text.to_string() };
            crate::config::AwsFiles::parse(&crate::config::Source::default(), &credentials).ok()
        }

        fn get(files: &crate::config::AwsFiles, section: &str, key: &str) -> Option<String> {
            files.get_in(crate::config::FileKind::Credentials, section, key).map(str::to_string)
        }

        /// One line of an AWS file, without its ending: the kinds a real file has, with the
        /// names and keys drawn small so that sections and keys collide often.
        fn line() -> impl Strategy<Value = String> {
            let name = prop::sample::select(NAMES.to_vec());
            let key = prop::sample::select(vec![
                "aws_access_key_id",
                "AWS_Session_Token",
                "aws_secret_access_key",
                "region",
                "s3",
                "x",
            ]);
            prop_oneof![
                name.clone().prop_map(|n| format!("[{n}]")),
                name.prop_map(|n| format!("  [ {n} ]  ")),
                (key.clone(), "[a-zA-Z0-9+/=]{0,8}").prop_map(|(k, v)| format!("{k} = {v}")),
                (key, "[a-z0-9]{1,4}").prop_map(|(k, v)| format!("{k}={v}")),
                Just("  nested = 1".to_string()),
                Just(String::new()),
                Just("# a comment".to_string()),
                Just("; another = comment".to_string()),
                Just("# written by awsmfa; expires then".to_string()),
            ]
        }

        /// A file: lines, one line ending for all (LF or CRLF), and maybe no final ending.
        fn file() -> impl Strategy<Value = String> {
            (prop::collection::vec(line(), 0..14), any::<bool>(), any::<bool>()).prop_map(|(lines, crlf, last)| {
                let eol = if crlf { "\r\n" } else { "\n" };
                let mut text = lines.join(eol);
                if last && !text.is_empty() {
                    text.push_str(eol);
                }
                text
            })
        }

        /// Every line of the file an edit of `[name]` must keep, in order: all but blank
        /// lines (appending adds one), `[name]` headers (added or dropped with the section),
        /// and in `[name]` the managed keys, their nested lines and awsmfa's note. Endings
        /// are normalised (a last line may gain one).
        fn unmanaged(text: &str, name: &str) -> Vec<String> {
            let mut kept = Vec::new();
            let (mut in_name, mut managed) = (false, false);
            for line in text.split_inclusive('\n') {
                let kind = classify(line);
                match &kind {
                    Some(LineKind::Header(h)) => {
                        in_name = *h == identity(name);
                        managed = false;
                        if in_name {
                            continue;
                        }
                    }
                    Some(LineKind::Entry(k, _)) => managed = in_name && MANAGED.contains(&k.as_str()),
                    _ => {}
                }
                let skip = match kind {
                    Some(LineKind::Blank) => true,
                    Some(LineKind::Entry(..)) | Some(LineKind::Continuation) => managed,
                    Some(LineKind::Comment) => in_name && line.trim_start().starts_with(NOTE_PREFIX),
                    _ => false,
                };
                if !skip {
                    kept.push(line.trim_end_matches(['\n', '\r']).to_string());
                }
            }
            kept
        }

        fn endings_kept(before: &str, after: &str) {
            let crlf = before.matches("\r\n").count();
            if before.contains('\n') && crlf == before.matches('\n').count() {
                assert_eq!(after.matches("\r\n").count(), after.matches('\n').count(), "a CRLF file stays CRLF");
            }
            if crlf == 0 {
                assert!(!after.contains('\r'), "an LF file gets no CR");
            }
        }

        /// The file as a config file, read by the AWS SDK's parser (None: it refuses it).
        fn sdk_config(text: &str) -> Option<crate::config::AwsFiles> {
            let config = crate::config::Source { path: "/config".into(), text: text.to_string() };
            crate::config::AwsFiles::parse(&config, &crate::config::Source::default()).ok()
        }

        /// Config-file lines: the spellings of one header that the SDKs read as one section.
        fn config_line() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(vec![
                    "[profile a]",
                    "[profile  a]",
                    "[profile\ta]",
                    "[ profile a ]",
                    "[profile \t a]",
                    "[default]",
                    "[profile default]",
                    "[ profile  default ]",
                    "[profile b]",
                    "[a]",
                ])
                .prop_map(str::to_string),
                (prop::sample::select(vec!["aws_access_key_id", "aws_secret_access_key", "region"]), "[a-z0-9]{1,4}")
                    .prop_map(|(k, v)| format!("{k} = {v}")),
                Just(String::new()),
                Just("# a comment".to_string()),
            ]
        }

        fn config_file() -> impl Strategy<Value = String> {
            prop::collection::vec(config_line(), 0..14).prop_map(|lines| lines.join("\n") + "\n")
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            #[test]
            fn setting_keys_changes_nothing_else(
                text in file(),
                name in prop::sample::select(vec!["a", "mfa", "default", "new"]),
                id in "[A-Z0-9]{16,20}",
                token in "[A-Za-z0-9+/=]{1,40}",
            ) {
                let keys = [(MANAGED[0], Some(id.as_str())), (MANAGED[1], Some("secret")), (MANAGED[2], Some(token.as_str()))];
                let out = set_keys(&text, name, &keys, Some("# written by awsmfa; expires now"));
                prop_assert_eq!(unmanaged(&out, name), unmanaged(&text, name));
                endings_kept(&text, &out);
                if let Some(before) = sdk(&text) {
                    let after = sdk(&out).expect("an edit of a file the SDK reads is one it reads");
                    prop_assert_eq!(get(&after, name, MANAGED[0]), Some(id.clone()));
                    prop_assert_eq!(get(&after, name, MANAGED[2]), Some(token.clone()));
                    for section in NAMES {
                        for key in KEYS {
                            if section != name || !MANAGED.contains(&key) {
                                prop_assert_eq!(get(&after, section, key), get(&before, section, key), "[{}] {}", section, key);
                            }
                        }
                    }
                }
                prop_assert_eq!(set_keys(&out, name, &keys, Some("# written by awsmfa; expires now")), out.clone(), "idempotent");
            }

            #[test]
            fn config_edits_land_in_the_section_the_sdk_reads(
                text in config_file(),
                profile in prop::sample::select(vec!["a", "b", "default"]),
            ) {
                let Some(before) = sdk_config(&text) else { return Ok(()) };
                // A key set twice in one section (spelled two ways) is read in hash order by
                // the SDK: ambiguous input, which callers refuse (`key_lines`).
                for p in ["a", "b", "default"] {
                    for key in ["aws_access_key_id", "aws_secret_access_key", "region"] {
                        if key_lines(&text, &config_section(&text, p), key) > 1 {
                            return Ok(());
                        }
                    }
                }
                let get = |f: &crate::config::AwsFiles, p: &str, k: &str| f.get_in(crate::config::FileKind::Config, p, k).map(str::to_string);
                let section = config_section(&text, profile);
                let set = replace_keys(&text, &section, &[("region", Some("zz-set-1"))]);
                let after = sdk_config(&set).expect("still read by the SDK");
                prop_assert_eq!(get(&after, profile, "region"), Some("zz-set-1".to_string()), "set where the SDK reads:\n{}", set);
                let unset = unset_keys(&text, &section, &["aws_access_key_id", "aws_secret_access_key"]);
                let after = sdk_config(&unset).expect("still read by the SDK");
                prop_assert_eq!(get(&after, profile, "aws_access_key_id"), None, "removed where the SDK reads:\n{}", unset);
                for other in ["a", "b", "default"] {
                    for key in ["aws_access_key_id", "aws_secret_access_key", "region"] {
                        if other != profile {
                            prop_assert_eq!(get(&after, other, key), get(&before, other, key), "[{}] {}", other, key);
                        }
                    }
                }
            }

            #[test]
            fn unsetting_keys_removes_their_lines_and_nothing_else(text in file(), name in prop::sample::select(vec!["a", "mfa", "default"])) {
                let two = &MANAGED[..2];
                let out = unset_keys(&text, name, two);
                let before: Vec<&str> = text.split_inclusive('\n').collect();
                let after: Vec<&str> = out.split_inclusive('\n').collect();
                let mut kept = 0;
                let mut removed = Vec::new();
                for line in &before {
                    if kept < after.len() && after[kept] == *line { kept += 1 } else { removed.push(*line) }
                }
                prop_assert_eq!(kept, after.len(), "the output is the input with whole lines taken out");
                for line in removed {
                    let ok = match classify(line) {
                        Some(LineKind::Entry(k, _)) => two.contains(&k.as_str()),
                        Some(LineKind::Continuation) => true,
                        _ => false,
                    };
                    prop_assert!(ok, "only the keys' own lines go: {:?}", line);
                }
                if let Some(before) = sdk(&text) {
                    let after = sdk(&out).expect("still read by the SDK");
                    for section in NAMES {
                        for key in KEYS {
                            let expected = if section == name && two.contains(&key) { None } else { get(&before, section, key) };
                            prop_assert_eq!(get(&after, section, key), expected, "[{}] {}", section, key);
                        }
                    }
                }
            }

            #[test]
            fn removing_keys_changes_nothing_else(text in file(), name in prop::sample::select(vec!["a", "mfa", "default"])) {
                let Some(out) = remove_keys(&text, name, &MANAGED) else {
                    prop_assert!(owned_ranges(&text.split_inclusive('\n').collect::<Vec<_>>(), name).is_empty());
                    return Ok(());
                };
                prop_assert_eq!(unmanaged(&out, name), unmanaged(&text, name));
                endings_kept(&text, &out);
                if let Some(before) = sdk(&text) {
                    let after = sdk(&out).expect("still read by the SDK");
                    for section in NAMES {
                        for key in KEYS {
                            let expected = if section == name && MANAGED.contains(&key) { None } else { get(&before, section, key) };
                            prop_assert_eq!(get(&after, section, key), expected, "[{}] {}", section, key);
                        }
                    }
                }
            }
        }
    }
}
