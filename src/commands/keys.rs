//! `awsmfa keys add | import | list | remove | rotate`: long-term keys into the keystore and
//! out of plain text, and rotated under MFA (the work is `keys`'s).

use std::time::Duration;

use super::print;
use crate::cli::{GlobalArgs, KeysCommand, KeysProfile, KeystoreChoice};
use crate::credentials::key_tail;
use crate::error::Result;
use crate::keys;
use crate::keystore::Backend;
use crate::output::report;
use crate::profile::{Overrides, Settings, config_section};
use crate::ui;

pub fn run(global: &GlobalArgs, command: KeysCommand) -> Result<i32> {
    match command {
        KeysCommand::Add(args) => {
            let (name, settings) = resolve(global, &args.profile)?;
            let added = keys::add(&settings, &name, backend(args.keystore))?;
            let (id, arn, place) = (key_tail(&added.key_id), added.arn, added.place);
            reaches(&settings, &name, &format!("stored key {id} of {arn} in {place} for profile '{name}'"))
        }
        KeysCommand::Import(args) => {
            let (name, settings) = resolve(global, &args.profile)?;
            let moved = keys::import(&settings, &name, backend(args.keystore), args.backup.as_deref())?;
            let (id, arn, from) = (key_tail(&moved.key_id), &moved.arn, moved.path.display());
            let done = format!("moved key {id} of {arn} from [{}] of {from} into {}", moved.section, moved.place);
            reaches(&settings, &moved.profile, &done)
        }
        KeysCommand::List(args) => {
            let rows = keys::list(&super::profile_settings(global)?);
            if rows.is_empty() && !args.json {
                ui::note("no profile keeps its keys in the keystore (`awsmfa keys import PROFILE` moves them there)");
                return Ok(0);
            }
            print(report::keys(&rows, args.json).as_bytes())
        }
        KeysCommand::Remove(args) => {
            let (name, settings) = resolve(global, &args.profile)?;
            let place = keys::remove(&settings, &name, args.restore, args.yes)?;
            ui::note(&format!("removed the keys of '{name}' from {place}"));
            Ok(0)
        }
        KeysCommand::Rotate(args) => {
            let wait = crate::profile::check_duration("--wait", args.wait, crate::clock::KEY_WAIT, "2m")?;
            let global = GlobalArgs { profile: Some(profile_name(global, &args.profile)?), ..global.clone() };
            let settings = super::settings(&global, &args.session)?;
            let request = super::request(&args.session, false)?;
            let reload = || super::settings(&global, &args.session);
            let done = keys::rotate(&settings, &reload, &request, Duration::from_secs(wait))?;
            if done.resumed {
                ui::note("finished the interrupted rotation");
            }
            let (profile, new, old) = (&settings.profile, key_tail(&done.new_key_id), key_tail(&done.old_key_id));
            ui::note(&format!("rotated profile '{profile}': new key {new} in {}; old key {old} deleted", done.place));
            Ok(0)
        }
    }
}

/// The profile named on the command line, else the one in use (refused if unusable).
fn profile_name(global: &GlobalArgs, profile: &KeysProfile) -> Result<String> {
    let name = crate::profile::profile_name(profile.name.as_deref().or(global.profile.as_deref()))?;
    super::check_profile_name(&name).map(|_| name)
}

/// That profile, and its settings.
fn resolve(global: &GlobalArgs, profile: &KeysProfile) -> Result<(String, Settings)> {
    let name = profile_name(global, profile)?;
    let overrides = Overrides { profile: Some(name.clone()), region: global.region.clone(), ..Default::default() };
    Ok((name, Settings::load(&overrides)?))
}

fn backend(choice: Option<KeystoreChoice>) -> Option<Backend> {
    choice.map(Into::into)
}

/// What was `done`, and that profile `name` now reaches its keys in the keystore.
fn reaches(settings: &Settings, name: &str, done: &str) -> Result<i32> {
    ui::note(done);
    let config = settings.config_path.display();
    ui::note(&format!("[{}] of {config} now reaches it through awsmfa", config_section(name)));
    Ok(0)
}
