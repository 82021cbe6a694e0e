//! `awsmfa man`: the manual pages (`output::man`), awsmfa(1) on stdout, or with `--dir`
//! awsmfa.1 and one page a command written into the directory.

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Result};
use crate::output::man;

pub fn run(args: ManArgs) -> Result<i32> {
    let pages = man::pages(Cli::command())?;
    let Some(dir) = args.dir else {
        let (_, top) = pages.into_iter().next().expect("the top page comes first");
        return super::print(&top);
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create the man page directory", &dir, e))?;
    let mut written = String::new();
    for (name, page) in &pages {
        let path = dir.join(name);
        std::fs::write(&path, page).map_err(|e| Error::io("write the man page", &path, e))?;
        written.push_str(&format!("{}\n", path.display()));
    }
    super::print(written.as_bytes())
}
