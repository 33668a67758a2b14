//! Building a [`RunConfig`] from an argv in tests, with a fixed affinity mask so they do not
//! depend on the machine.

use std::path::PathBuf;

use clap::Parser;

use crate::{Args, ConfigError, RunConfig};

/// The affinity mask the tests pretend to have.
pub(crate) const ALLOWED: [usize; 2] = [0, 1];

pub(crate) fn parse(argv: &[&str]) -> Result<RunConfig, ConfigError> {
    let args = Args::try_parse_from(std::iter::once("shardslap").chain(argv.iter().copied()))
        .unwrap_or_else(|err| panic!("clap rejected {argv:?}: {err}"));
    super::build(args, &ALLOWED)
}

pub(crate) fn ok(argv: &[&str]) -> RunConfig {
    parse(argv).unwrap_or_else(|err| panic!("{argv:?}: {err}"))
}

pub(crate) fn err(argv: &[&str]) -> String {
    match parse(argv) {
        Ok(cfg) => panic!("{argv:?} was accepted: {cfg:?}"),
        Err(err) => err.to_string(),
    }
}

/// A file under the temp dir that is removed when dropped.
pub(crate) struct TempFile(pub(crate) PathBuf);

impl TempFile {
    pub(crate) fn new(name: &str, text: &str) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("shardslap-config-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    pub(crate) fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
