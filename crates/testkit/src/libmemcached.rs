//! libmemcached's own placement, for tests that hold shardslap's against it: a tiny C
//! program (`c/libmemcached_placement.c`) compiled once per test process with `cc
//! -lmemcached` and asked which server each key goes to. No server needs to run.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/c/libmemcached_placement.c");

/// The libmemcached distribution to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibmemcachedDistribution {
    /// `MEMCACHED_DISTRIBUTION_MODULA` with the default (one-at-a-time) hash.
    Modula,
    /// `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` (MD5 keys, weighted MD5 continuum).
    KetamaWeighted,
}

/// The compiled placement program.
#[derive(Debug)]
pub struct LibmemcachedPlacement {
    binary: PathBuf,
}

impl LibmemcachedPlacement {
    /// Compiles the program (once per process). Panics with the fix when `cc` or
    /// libmemcached-dev is missing.
    pub fn get() -> &'static LibmemcachedPlacement {
        static PROGRAM: OnceLock<LibmemcachedPlacement> = OnceLock::new();
        PROGRAM.get_or_init(compile)
    }

    /// The server index libmemcached maps each of `keys` to, for servers given as
    /// `(host, port, weight)` in order. Keys must not contain a newline.
    pub fn servers_for(
        &self,
        distribution: LibmemcachedDistribution,
        servers: &[(&str, u16, u32)],
        keys: &[&[u8]],
    ) -> Vec<usize> {
        let mode = match distribution {
            LibmemcachedDistribution::Modula => "modula",
            LibmemcachedDistribution::KetamaWeighted => "ketama",
        };
        let mut child = Command::new(&self.binary)
            .arg(mode)
            .args(
                servers
                    .iter()
                    .map(|(host, port, weight)| format!("{host}:{port}:{weight}")),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = Vec::new();
        for key in keys {
            assert!(!key.contains(&b'\n'), "a key with a newline");
            input.extend_from_slice(key);
            input.push(b'\n');
        }
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert!(output.status.success(), "libmemcached_placement failed");
        let out = String::from_utf8(output.stdout).unwrap();
        let indexes: Vec<usize> = out.lines().map(|line| line.parse().unwrap()).collect();
        assert_eq!(indexes.len(), keys.len(), "one index per key");
        indexes
    }
}

fn compile() -> LibmemcachedPlacement {
    let dir = std::env::temp_dir().join(format!("shardslap-libmemcached-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let binary = dir.join("libmemcached_placement");
    let result = Command::new("cc")
        .args(["-O1", "-o"])
        .arg(&binary)
        .arg(SOURCE)
        .arg("-lmemcached")
        .output();
    match result {
        Ok(out) if out.status.success() => LibmemcachedPlacement { binary },
        Ok(out) => panic!(
            "cannot compile {SOURCE} against libmemcached: {}\n\
             install it: apt-get install libmemcached-dev (scripts/lib/ensure-memcached.sh's \
             ensure_test_tools does)",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(err) => panic!(
            "cannot run cc ({err}): install gcc and libc6-dev (apt-get install gcc libc6-dev \
             libmemcached-dev)"
        ),
    }
}
