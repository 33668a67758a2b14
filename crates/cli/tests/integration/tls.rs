//! `--tls` against a real memcached started with `-Z` and certificates made for the test
//! (rcgen): counts equal to the server's own `stats` deltas, mutual TLS, and the refusals a
//! user meets (a CA that signed nothing here, a name the certificate lacks, a server that
//! wants a client certificate) as one line with exit 2.
//!
//! TLS needs the ring's data path, so these runs ask for it even when the suite runs on
//! glommio's sockets (`SHARDSLAP_DATA_PATH=glommio`); one test checks that refusal.

use std::time::Duration;

use shardslap_testkit::{MemcachedServer, ServerOptions, ServerTls, StatsDelta, TestPki};

use crate::engine_counts::{assert_counts_match, LIMIT};
use crate::util::{run_with_json_env, RunResult, TempDir};

const RING: [(&str, &str); 1] = [("SHARDSLAP_DATA_PATH", "ring")];

/// A PKI in a directory of its own and a memcached with a TLS listener using it.
struct TlsServer {
    server: MemcachedServer,
    pki: TestPki,
    _dir: TempDir,
}

impl TlsServer {
    fn start(mutual: bool) -> TlsServer {
        let dir = TempDir::new("tls");
        let pki = TestPki::create(&dir.0);
        let server = MemcachedServer::start_with(ServerOptions {
            memory_mb: 8,
            tls: Some(ServerTls {
                cert: pki.server_cert.clone(),
                key: pki.server_key.clone(),
                client_ca: mutual.then(|| pki.ca_cert.clone()),
            }),
            ..ServerOptions::default()
        });
        TlsServer {
            server,
            pki,
            _dir: dir,
        }
    }

    fn ca(&self) -> String {
        self.pki.ca_cert.display().to_string()
    }

    /// Runs shardslap against the TLS listener with `args`; the run and the stats delta.
    fn run(&self, args: &[&str]) -> (RunResult, StatsDelta) {
        let addr = self.server.tls_addr_string();
        let mut full = vec!["-s", addr.as_str(), "--tls"];
        full.extend_from_slice(args);
        let before = self.server.stats();
        let run = run_with_json_env(&full, &RING, LIMIT);
        let after = self.server.stats();
        (run, after.since(&before))
    }

    /// Asserts that `args` are refused before any request, in one line with `says`.
    fn assert_refused(&self, args: &[&str], says: &str) {
        let (run, delta) = self.run(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        assert_eq!(delta.cmd_get + delta.cmd_set, 0, "nothing was sent");
    }
}

#[test]
fn tls_counts_match_the_server_for_gets_multi_gets_pipelines_and_meta() {
    let tls = TlsServer::start(false);
    let ca = tls.ca();
    for extra in [
        &[][..],
        &["-d", "4"][..],
        &["--pipeline", "8", "-d", "3"][..],
        &["--protocol", "meta", "-d", "4"][..],
    ] {
        let mut args = vec![
            "--tls-ca", &ca, "-T", "1", "-c", "4", "-x", "20000", "-X", "4096",
        ];
        args.extend_from_slice(extra);
        let (run, delta) = tls.run(&args);
        assert_counts_match(&run, &delta);
        assert!(
            delta.get_misses > 0,
            "{extra:?}: the small server should evict: {delta:?}"
        );
        assert_eq!(
            run.counters().cmd_get + run.counters().cmd_set,
            20000,
            "{extra:?}: -x is exact"
        );
    }
}

#[test]
fn mutual_tls_presents_the_client_certificate_and_a_run_without_one_is_refused() {
    let tls = TlsServer::start(true);
    let ca = tls.ca();
    let cert = tls.pki.client_cert.display().to_string();
    let key = tls.pki.client_key.display().to_string();
    let (run, delta) = tls.run(&[
        "--tls-ca",
        &ca,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "-T",
        "1",
        "-c",
        "2",
        "-x",
        "4000",
    ]);
    assert_counts_match(&run, &delta);
    tls.assert_refused(&["--tls-ca", &ca, "-x", "100"], "TLS with 127.0.0.1:");
}

#[test]
fn a_ca_that_did_not_sign_the_server_is_one_line_exit_2() {
    let tls = TlsServer::start(false);
    let other = tls.pki.other_ca_cert.display().to_string();
    tls.assert_refused(
        &["--tls-ca", &other, "-x", "100"],
        "invalid peer certificate: UnknownIssuer",
    );
}

#[test]
fn the_certificate_must_carry_the_server_name_unless_insecure() {
    let tls = TlsServer::start(false);
    let ca = tls.ca();
    let (run, delta) = tls.run(&[
        "--tls-ca",
        &ca,
        "--tls-server-name",
        "localhost",
        "-x",
        "2000",
    ]);
    assert_counts_match(&run, &delta);
    tls.assert_refused(
        &[
            "--tls-ca",
            &ca,
            "--tls-server-name",
            "cache.example",
            "-x",
            "100",
        ],
        "invalid peer certificate",
    );
    let (run, delta) = tls.run(&[
        "--tls-insecure",
        "--tls-server-name",
        "cache.example",
        "-x",
        "2000",
    ]);
    assert_counts_match(&run, &delta);
}

#[test]
fn tls_on_glommio_sockets_is_refused_in_one_line() {
    let tls = TlsServer::start(false);
    let ca = tls.ca();
    let addr = tls.server.tls_addr_string();
    let mut cmd = crate::util::shardslap();
    cmd.args(["-s", &addr, "--tls", "--tls-ca", &ca, "-x", "100"])
        .env("SHARDSLAP_DATA_PATH", "glommio");
    let run = crate::util::run_command(cmd, Duration::from_secs(20));
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("--tls needs the io_uring data path"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_tls_flags_are_refused_in_one_line() {
    let dir = TempDir::new("tls-flags");
    let empty = dir.path("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let empty = empty.display().to_string();
    let cases: [(&[&str], &str); 6] = [
        (&["--tls", "-U"], "--tls cannot be combined with --udp"),
        (&["--tls-ca", "ca.pem"], "--tls-ca needs --tls"),
        (
            &["--tls", "--tls-ca", "/nonexistent/ca.pem"],
            "cannot read --tls-ca /nonexistent/ca.pem: No such file or directory",
        ),
        (
            &["--tls", "--tls-cert", &empty],
            "--tls-cert needs --tls-key",
        ),
        (
            &["--tls", "--tls-insecure", "--tls-ca", &empty],
            "--tls-insecure cannot be combined with --tls-ca",
        ),
        (&["--tls", "--tls-ca", &empty], "no PEM certificate in it"),
    ];
    // The last case gets as far as the engine: it needs a server that is up.
    let server = MemcachedServer::start();
    for (flags, says) in cases {
        let addr = server.addr_string();
        let mut args = vec!["-s", addr.as_str(), "-t", "1s"];
        args.extend_from_slice(flags);
        // (On the ring's path: on glommio's, --tls is refused before its files are read.)
        let mut cmd = crate::util::shardslap();
        cmd.args(&args).envs(RING);
        let run = crate::util::run_command(cmd, Duration::from_secs(20));
        assert_eq!(run.status.code(), Some(2), "{flags:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{flags:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{flags:?}: {}", run.stderr);
    }
}
