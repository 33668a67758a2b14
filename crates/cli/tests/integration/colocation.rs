//! A memcached on this host whose CPUs the shards would share gets one warning with the fix.

use std::time::Duration;

use shardslap_testkit::MemcachedServer;

use crate::util::run_plain;

const LIMIT: Duration = Duration::from_secs(60);

/// Pins every thread of `pid` to `cpu`.
fn pin_process(pid: u32, cpu: usize) {
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let tid: i32 = task.unwrap().file_name().to_str().unwrap().parse().unwrap();
        // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET writes inside it.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        unsafe { libc::CPU_SET(cpu, &mut set) };
        // SAFETY: the set is valid for its size; tid is a thread of our child.
        let rc = unsafe { libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set) };
        assert_eq!(rc, 0, "pin {tid}: {}", std::io::Error::last_os_error());
    }
}

fn allowed_cpus() -> Vec<usize> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap();
    shardslap_config::parse_cpu_list(list.trim()).unwrap()
}

#[test]
fn a_local_server_on_the_shards_cpus_is_named_with_the_cores_that_avoid_it() {
    let cpus = allowed_cpus();
    assert!(
        cpus.len() >= 2,
        "this test needs two CPUs in the affinity mask, has {cpus:?}"
    );
    let (client, server_cpu) = (cpus[0], cpus[1]);
    let server = MemcachedServer::start();
    let pid = server.pid().unwrap();
    pin_process(pid, server_cpu);
    let addr = server.addr_string();

    let cores = format!("{client},{server_cpu}");
    let run = run_plain(
        &["-s", &addr, "--cores", &cores, "-c", "2", "-x", "200", "-q"],
        LIMIT,
    );
    run.assert_success();
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("compete"))
        .collect();
    assert_eq!(warnings.len(), 1, "warned once: {}", run.stderr);
    assert!(
        warnings[0].starts_with(&format!(
            "shardslap: warning: memcached (pid {pid}) at {addr} may run on CPU {server_cpu}, \
             and the shards would share CPU {server_cpu} with it"
        )),
        "{}",
        run.stderr
    );
    assert!(
        warnings[0].ends_with(&format!(
            "use --cores {client} to leave the server's CPUs free"
        )),
        "{}",
        run.stderr
    );

    // The fix it names: no warning.
    let run = run_plain(
        &[
            "-s",
            &addr,
            "--cores",
            &client.to_string(),
            "-c",
            "2",
            "-x",
            "200",
            "-q",
        ],
        LIMIT,
    );
    run.assert_success();
    assert!(!run.stderr.contains("compete"), "{}", run.stderr);
}

#[test]
fn sweep_warns_about_its_scaling_too() {
    let cpus = allowed_cpus();
    assert!(cpus.len() >= 2, "this test needs two CPUs, has {cpus:?}");
    let server = MemcachedServer::start();
    pin_process(server.pid().unwrap(), cpus[1]);
    let dir = crate::util::TempDir::new("sweep-colocated");
    let out = dir.path("sweep.json");
    let cores = format!("{},{}", cpus[0], cpus[1]);
    let run = run_plain(
        &[
            "sweep",
            "-s",
            &server.addr_string(),
            "--cores",
            &cores,
            // Per core: one concurrency per core passes with two cores.
            "-c",
            "1",
            "-x",
            "100",
            "-o",
            out.to_str().unwrap(),
        ],
        LIMIT,
    );
    run.assert_success();
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("compete"))
        .collect();
    assert_eq!(warnings.len(), 1, "once per sweep: {}", run.stderr);
    assert!(
        warnings[0].ends_with("(the sweep's scaling would show the competition, not the client)")
    );
}
