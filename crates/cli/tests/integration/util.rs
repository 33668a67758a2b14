//! Running the binary with a deadline and reading its JSON.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use shardslap_report::Counters;
use shardslap_schema::ResultFile;

/// What one run of the binary produced.
#[derive(Debug)]
pub struct RunResult {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The `--json` file's content, when the run was given one and wrote it.
    pub json: Option<serde_json::Value>,
    /// The same file read through the result schema, as `merge` and `plot` read it.
    pub result: Option<ResultFile>,
}

impl RunResult {
    /// The JSON report; panics with the run's stderr when there is none.
    pub fn json(&self) -> &serde_json::Value {
        self.json.as_ref().unwrap_or_else(|| {
            panic!(
                "no JSON report (exit {:?})\nstdout:\n{}\nstderr:\n{}",
                self.status.code(),
                self.stdout,
                self.stderr
            )
        })
    }

    /// The JSON report read through the schema; panics with the run's stderr when there is
    /// none.
    pub fn result(&self) -> &ResultFile {
        self.json();
        self.result
            .as_ref()
            .expect("the --json file is not a shardslap result file")
    }

    /// The report's `counters`, by the report's own names: every counter the build knows
    /// must be in the file (a missing one panics rather than reading 0).
    pub fn counters(&self) -> Counters {
        counters_of(self.result())
    }

    pub fn assert_success(&self) {
        assert!(
            self.status.success(),
            "shardslap failed (exit {:?})\nstdout:\n{}\nstderr:\n{}",
            self.status.code(),
            self.stdout,
            self.stderr
        );
    }
}

/// The `counters` of `file` by the report's own names: every counter the build knows must be
/// in the file (a missing one panics rather than reading 0).
pub fn counters_of(file: &ResultFile) -> Counters {
    let map = &file.counters;
    for (name, _) in Counters::default().named() {
        assert!(map.contains_key(name), "JSON counters have no '{name}'");
    }
    let value = serde_json::to_value(map).expect("counters serialize");
    serde_json::from_value(value).expect("JSON counters are integers")
}

/// A fresh temporary directory for one test's files, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let unique = format!(
            "shardslap-test-{name}-{}-{:?}",
            std::process::id(),
            Instant::now()
        );
        let dir = std::env::temp_dir().join(unique.replace([' ', ':', '.', ',', '{', '}'], "_"));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary under test.
pub fn shardslap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shardslap"))
}

/// Runs shardslap with `args` plus `--json <tmp>`, killing it after `limit`.
pub fn run_with_json(args: &[&str], limit: Duration) -> RunResult {
    run_with_json_env(args, &[], limit)
}

/// [`run_with_json`] with extra environment variables.
pub fn run_with_json_env(args: &[&str], env: &[(&str, &str)], limit: Duration) -> RunResult {
    let dir = TempDir::new("run");
    let json_path = dir.path("result.json");
    let mut cmd = shardslap();
    cmd.args(args).arg("--json").arg(&json_path);
    cmd.envs(env.iter().copied());
    let mut result = run_command(cmd, limit);
    let text = std::fs::read_to_string(&json_path)
        .ok()
        .filter(|text| !text.is_empty());
    if let Some(text) = text {
        result.json = Some(serde_json::from_str(&text).expect("the --json file is not valid JSON"));
        result.result =
            Some(serde_json::from_str(&text).expect("the --json file is not a shardslap result"));
    }
    result
}

/// Runs shardslap with exactly `args` (no JSON), killing it after `limit`.
pub fn run_plain(args: &[&str], limit: Duration) -> RunResult {
    let mut cmd = shardslap();
    cmd.args(args);
    run_command(cmd, limit)
}

/// Spawns `cmd` and waits for it with a deadline.
pub fn run_command(mut cmd: Command, limit: Duration) -> RunResult {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start shardslap");
    wait_with_deadline(child, limit)
}

/// Waits for `child`, killing it (and failing the test) past `limit`.
pub fn wait_with_deadline(mut child: Child, limit: Duration) -> RunResult {
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout_pipe.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shardslap did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    RunResult {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        json: None,
        result: None,
    }
}

/// Asserts that shardslap refuses `args` (after a server and a run time nobody reaches) in
/// one stderr line containing `says`, with exit 2 and no panic.
pub fn assert_refused_in_one_line(args: &[&str], says: &str) {
    let mut full = vec!["-s", "127.0.0.1:1", "-t", "1s"];
    full.extend_from_slice(args);
    let run = run_plain(&full, Duration::from_secs(60));
    assert_eq!(run.status.code(), Some(2), "{args:?}: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
    assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
}
