"""The measuring half of scripts/bench.sh (see there). Standard library only."""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SHARDSLAP = "target/release/shardslap"
# The paced scenario's rate, ops/s: about a third of what one memcached thread serves here.
PACED_RATE = 40000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_memcached(cpu, port, tls=None):
    """memcached -t 1 on `cpu`; with tls=(tls_port, cert, key) also a TLS listener (-Z)."""
    binary = os.environ.get("SHARDSLAP_MEMCACHED", "memcached")
    listen = ["-l", "127.0.0.1"]
    if tls:
        tls_port, cert, key = tls
        listen = ["-Z", "-o", f"ssl_chain_cert={cert},ssl_key={key}",
                  "-l", f"notls:127.0.0.1:{port},127.0.0.1:{tls_port}"]
    cmd = ["taskset", "-c", str(cpu), binary] + listen + ["-p", str(port),
           "-U", "0", "-t", "1", "-m", "2048", "-c", "4096"]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]
    proc = subprocess.Popen(cmd)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"bench: memcached did not start on port {port}")


class Server:
    """The memcached a scenario measures against. `fresh()` restarts it before each measured
    run, so every tool meets the same server: empty, its hash table at its first size, no
    slab pages from earlier runs. One long-lived server grows by every run (each SETs tens of
    thousands of new items), so its hash table doubles during whichever run crosses the next
    threshold, and a run later in a round meets a bigger server than the one before it."""

    def __init__(self, cpu, port, tls=None):
        self.cpu, self.port, self.tls = cpu, port, tls
        self.proc = start_memcached(cpu, port, tls)

    @property
    def pid(self):
        return self.proc.pid

    def fresh(self):
        self.stop()
        self.proc = start_memcached(self.cpu, self.port, self.tls)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()


def test_certificate(directory):
    """A CA and a certificate it signed for 127.0.0.1 (openssl), for the TLS scenario; returns
    (ca, cert, key). (A self-signed certificate is a CA, which TLS clients refuse as a leaf.)"""
    path = lambda name: os.path.join(directory, name)
    quiet = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    subprocess.run(["openssl", "req", "-x509"] + ec + ["-keyout", path("ca.key"), "-out",
                    path("ca.pem"), "-days", "1", "-subj", "/CN=bench CA"], **quiet)
    subprocess.run(["openssl", "req"] + ec + ["-keyout", path("key.pem"), "-out",
                    path("cert.csr"), "-subj", "/CN=127.0.0.1"], **quiet)
    with open(path("ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    subprocess.run(["openssl", "x509", "-req", "-in", path("cert.csr"), "-CA", path("ca.pem"),
                    "-CAkey", path("ca.key"), "-CAcreateserial", "-out", path("cert.pem"),
                    "-days", "1", "-extfile", path("ext")], **quiet)
    return path("ca.pem"), path("cert.pem"), path("key.pem")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid):
    """User + system CPU seconds a process has used so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name may hold spaces; the fields after its closing parenthesis are fixed.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class SyscallCounter:
    """Counts a command's system calls with one instrument: `perf stat` on the
    raw_syscalls:sys_enter tracepoint, which counts in the kernel without stopping the process,
    or `strace -f -c`, which stops it at every call and slows each call by tens of
    microseconds. A client that batches its work per system call (shardslap's ring) then
    batches far more than it does unobserved: strace reports 0.12 calls per op where perf
    counts 0.7–0.9 (docs/performance.md). The data path's target (≤ 0.5) was set with strace,
    from a prototype measured the same way, so the bench counts both ways when it can."""

    def __init__(self, tool):
        self.tool = tool

    @staticmethod
    def available():
        """The instruments on this machine, perf first."""
        counters = []
        if shutil.which("perf"):
            probe = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "true"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if probe.returncode == 0 and "sys_enter" in probe.stderr:
                counters.append(SyscallCounter("perf"))
        if shutil.which("strace"):
            counters.append(SyscallCounter("strace"))
        return counters

    def wrap(self, cmd, out):
        if self.tool == "perf":
            return ["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-o", out, "--"] + cmd
        return ["strace", "-f", "-c", "-o", out] + cmd

    def total(self, path):
        with open(path) as f:
            for line in f:
                if self.tool == "perf" and "raw_syscalls:sys_enter" in line:
                    return int(line.split(",")[0])
                # strace -c: the summary's last line.
                if self.tool == "strace" and line.strip().endswith("total"):
                    fields = line.split()
                    return int(fields[3]) if len(fields) >= 5 else int(fields[2])
        return 0

    def server_calls(self, server_pid, run_workload):
        """perf only (strace would stop the server at every call): the system calls of
        memcached's worker threads (not its LRU maintainer and crawler, which sleep and wake
        on their own clock) while `run_workload()` runs, per op it returns; None without
        worker threads to watch."""
        workers = [task for task in os.listdir(f"/proc/{server_pid}/task")
                   if read_text(f"/proc/{server_pid}/task/{task}/comm") == "mc-worker"]
        if not workers:
            return None
        trace = tempfile.mktemp()
        proc = subprocess.Popen(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-t",
                                 ",".join(workers), "-o", trace],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # Attached before the client's first request.
        try:
            ops = run_workload()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait()
        calls = self.total(trace)
        os.unlink(trace)
        return calls / max(ops, 1)

    def describe(self):
        return {"perf": "`perf stat -e raw_syscalls:sys_enter` (undisturbed)",
                "strace": "`strace -f -c` (stops the process at every call: undercounts a "
                          "client that batches)"}[self.tool]


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def run_measured(cmd, wrap=None, env=None):
    """Runs cmd (wrapped by `wrap`, if given); returns (stdout+stderr text, user s, sys s, max
    RSS KiB)."""
    if wrap:
        cmd = wrap(cmd)
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env=None if env is None else {**os.environ, **env})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}:\n{text[-2000:]}")
    return text, usage.ru_utime, usage.ru_stime, usage.ru_maxrss


class Tool:
    """One client configuration in one scenario."""

    def __init__(self, name, argv, parse, env=None, prepare=None):
        """`prepare`: a command run against the fresh server before each measured run (not
        measured), for a tool whose workload needs items stored first."""
        self.name, self.argv, self.parse, self.env, self.prepare = name, argv, parse, env, prepare
        self.rows = []

    def run(self, secs, counters, server):
        """One measured run; then, for each syscall counter given, the same workload for 3 s
        with its system calls counted (calls per op, not timing), and once more with the
        server's counted by perf (calls per request)."""
        server.fresh()
        if self.prepare:
            subprocess.run(self.prepare, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=True)
        json_path = tempfile.mktemp(suffix=".json")
        argv = [a.replace("{secs}", str(secs)).replace("{json}", json_path) for a in self.argv]
        server_before = process_cpu_s(server.pid)
        text, user, sys_, rss = run_measured(argv, env=self.env)
        server_cpu = process_cpu_s(server.pid) - server_before
        ops, p50, p99 = self.parse(text, json_path, secs)
        short = [a.replace("{secs}", "3").replace("{json}", json_path) for a in self.argv]

        def run_short(wrap=None):
            """The same workload for 3 s (calls counted, not timed); its op count."""
            text2, *_ = run_measured(short, wrap=wrap, env=self.env)
            return self.parse(text2, json_path, 3)[0]

        syscalls = {}
        for counter in counters:
            trace = tempfile.mktemp()
            ops2 = run_short(lambda cmd, c=counter: c.wrap(cmd, trace))
            syscalls[counter.tool] = counter.total(trace) / max(ops2, 1)
            os.unlink(trace)
        # The server's calls in a run of their own: counting them slows memcached's calls (a
        # tracepoint on each), which lets a batching client batch more than it does unobserved.
        perf = next((c for c in counters if c.tool == "perf"), None)
        server_syscalls = perf.server_calls(server.pid, run_short) if perf else None
        if os.path.exists(json_path):
            os.unlink(json_path)
        self.rows.append(dict(ops=ops, secs=secs, user=user, sys=sys_, rss=rss, p50=p50,
                              p99=p99, syscalls=syscalls, server=server_cpu,
                              server_syscalls=server_syscalls))


def parse_memaslap(text, _json, _secs):
    m = re.search(r"Run time: ([\d.]+)s Ops: (\d+) TPS: (\d+)", text)
    if not m:
        sys.exit(f"bench: no memaslap summary in:\n{text[-1500:]}")
    return int(m.group(2)), None, None


def parse_shardslap(_text, json_path, _secs):
    with open(json_path) as f:
        report = json.load(f)
    c = report["counters"]
    latency = report["totals"]["total"]["latency_us"]
    return c["cmd_get"] + c["cmd_set"], latency["p50"], latency["p99"]


def parse_memtier(text, _json, secs):
    m = re.search(r"^Totals\s+([\d.]+)\s.*$", text, re.M)
    if not m:
        sys.exit(f"bench: no memtier Totals line in:\n{text[-1500:]}")
    ops_per_sec = float(m.group(1))
    fields = m.group(0).split()
    # Totals  ops/s  hits/s  misses/s  avg  p50  p99  p99.9  KB/s (latencies in ms)
    p50 = float(fields[5]) * 1000 if len(fields) > 5 else None
    p99 = float(fields[6]) * 1000 if len(fields) > 6 else None
    return int(ops_per_sec * secs), p50, p99


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def summarize(tool):
    rows = tool.rows
    ops_s = median([r["ops"] / r["secs"] for r in rows])
    cpu = median([(r["user"] + r["sys"]) / r["ops"] * 1e6 for r in rows])
    user = median([r["user"] / r["ops"] * 1e6 for r in rows])
    sys_ = median([r["sys"] / r["ops"] * 1e6 for r in rows])
    server = median([r["server"] / r["ops"] * 1e6 for r in rows])
    rss = max(r["rss"] for r in rows) / 1024
    p50s = [r["p50"] for r in rows if r["p50"] is not None]
    p99s = [r["p99"] for r in rows if r["p99"] is not None]
    # Calls per op by instrument ("perf", "strace"), each the median of its rounds.
    syscalls = {tool: median([r["syscalls"][tool] for r in rows if tool in r["syscalls"]])
                for tool in sorted({t for r in rows for t in r["syscalls"]})}
    server_calls = [r["server_syscalls"] for r in rows if r["server_syscalls"] is not None]
    return dict(ops_s=ops_s, cpu=cpu, user=user, sys=sys_, rss=rss, server=server,
                p50=median(p50s) if p50s else None, p99=median(p99s) if p99s else None,
                syscalls=syscalls, server_syscalls=median(server_calls) if server_calls else None)


def table(title, tools, baseline):
    print(f"\n### {title}\n")
    print("| tool | ops/s | CPU µs/op | user µs/op | sys µs/op | memcached µs/req | memcached syscalls/req | syscalls/op, perf | syscalls/op, strace | max RSS MiB | p50 µs | p99 µs | ops/s ratio | CPU/op ratio | memcached/req ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = summarize(baseline) if baseline else None
    for tool in tools:
        s = summarize(tool)
        fmt = lambda v, spec: "–" if v is None else format(v, spec)
        ratios = ["–", "–", "–"]
        if base and tool is not baseline:
            ratios = [f"{s['ops_s'] / base['ops_s']:.2f}×", f"{s['cpu'] / base['cpu']:.2f}×",
                      f"{s['server'] / base['server']:.2f}×"]
        print(f"| {tool.name} | {s['ops_s']:,.0f} | {s['cpu']:.2f} | {s['user']:.2f} | {s['sys']:.2f} | "
              f"{s['server']:.2f} | {fmt(s['server_syscalls'], '.2f')} | "
              f"{fmt(s['syscalls'].get('perf'), '.2f')} | "
              f"{fmt(s['syscalls'].get('strace'), '.2f')} | {s['rss']:.1f} | "
              f"{fmt(s['p50'], '.1f')} | {fmt(s['p99'], '.1f')} | " + " | ".join(ratios) + " |")
    sys.stdout.flush()


def round_ratios(tool, baseline, per_op):
    """`per_op(row)` of `tool` over the baseline's in each round (the tools alternate, so row i
    of each is the same round): how far the noise moves a ratio within one run."""
    return sorted(per_op(t) / per_op(b) for t, b in zip(tool.rows, baseline.rows))


def targets_table(memaslap, shard, before, piped):
    """The data path's targets (docs/performance.md) against this run's medians, with the range
    of the per-round ratios beside each ratio. `before` is the data path the ring replaced
    (glommio's sockets, the fallback), run in the same rounds: "p99 not above today's" is judged
    against it, because this machine's absolute p99 follows memcached's speed of the hour."""
    m, s, b = summarize(memaslap), summarize(shard), summarize(before)
    cpu = lambda r: (r["user"] + r["sys"]) / r["ops"]
    server = lambda r: r["server"] / r["ops"]
    rate = lambda r: r["ops"] / r["secs"]
    rows = [("client CPU/op ≤ 0.9× memaslap's", s["cpu"] / m["cpu"], "×", lambda v: v <= 0.9,
             round_ratios(shard, memaslap, cpu)),
            # The target was set with strace (the issue's table and its prototype's 0.12), so
            # it is judged with strace; perf's undisturbed count stands beside it, and against
            # memaslap's counted the same way.
            ("syscalls per op ≤ 0.5 (`strace -f -c`, as the target was set)",
             s["syscalls"].get("strace"), "", lambda v: v <= 0.5, None),
            ("syscalls per op, undisturbed (`perf stat`; reference)",
             s["syscalls"].get("perf"), "", None, None),
            ("syscalls per op against memaslap's, both by perf (×; reference)",
             None if not s["syscalls"].get("perf") or not m["syscalls"].get("perf")
             else s["syscalls"]["perf"] / m["syscalls"]["perf"], "×", None, None),
            # What the server does per request, by perf: with one request in flight it is
            # one read and one sendmsg whichever client sends it (docs/performance.md).
            ("memcached syscalls per request against memaslap's (×; reference)",
             None if not s["server_syscalls"] or not m["server_syscalls"]
             else s["server_syscalls"] / m["server_syscalls"], "×", None, None),
            ("memcached CPU/request ≤ 1.0× memaslap's", s["server"] / m["server"], "×",
             lambda v: v <= 1.0, round_ratios(shard, memaslap, server)),
            ("ops/s ≥ 1.0× memaslap's", s["ops_s"] / m["ops_s"], "×", lambda v: v >= 1.0,
             round_ratios(shard, memaslap, rate)),
            ("max RSS ≤ memaslap's (MiB over)", s["rss"] - m["rss"], " MiB", lambda v: v <= 0,
             None),
            ("p99 not above the glommio path's in this run (×)",
             None if s["p99"] is None or b["p99"] is None else s["p99"] / b["p99"], "×",
             lambda v: v <= 1.0, round_ratios(shard, before, lambda r: r["p99"])),
            # For reference: the p99 the box measured before the ring, on the morning the
            # target was set (270–350 µs); it moves with the machine, so it is not the judge.
            ("p99 (µs; 270–350 before the ring, that morning)", s["p99"], " µs",
             lambda v: v <= 350, None)]
    if piped:
        rows.append(("--pipeline 16 CPU/op ≤ 0.55× memaslap's one-in-flight",
                     summarize(piped)["cpu"] / m["cpu"], "×", lambda v: v <= 0.55,
                     None))  # (Its rounds are another scenario's: no pairs.)
    print("\n### Targets (this run's medians)\n")
    print("| target | measured | met | per-round ratios |")
    print("|---|---|---|---|")
    for name, value, unit, met, per_round in rows:
        spread = "–" if not per_round else f"{per_round[0]:.2f}–{per_round[-1]:.2f}×"
        if value is None:
            print(f"| {name} | – | not measured | {spread} |")
        else:
            verdict = "–" if met is None else ("yes" if met(value) else "no")
            print(f"| {name} | {value:.2f}{unit} | {verdict} | {spread} |")
    common_mode_note(memaslap, shard, cpu, server)
    sys.stdout.flush()


def common_mode_note(memaslap, shard, cpu, server):
    """The client CPU/op ratio with the round's own speed divided out: in each round, the
    ratio of client CPU/op over the ratio of memcached CPU/request. The box's speed moves both
    tools and the server together within a round (a neighbour, the host's frequency), so this
    ratio scatters several times less than the raw one and resolves a change of 1–2%. It is a
    diagnostic, not the target: a client that made the server cheaper would look worse here."""
    raw = round_ratios(shard, memaslap, cpu)
    if len(raw) < 2:
        return
    pairs = list(zip(shard.rows, memaslap.rows))
    normalized = sorted((cpu(s) / cpu(m)) / (server(s) / server(m)) for s, m in pairs)
    spread = lambda values: statistics.stdev(values)
    print(f"\nClient CPU/op ratio per round, median {median(raw):.3f} (sd {spread(raw):.3f}); "
          f"divided by the same round's memcached CPU/request ratio, median "
          f"{median(normalized):.3f} (sd {spread(normalized):.3f}, {len(normalized)} rounds).")


def scaling_table(tools):
    print("\n### Scaling without sharing (ops per client CPU-second, same total concurrency -c 16)\n")
    print("| shards | ops/s | ops per client CPU-second | vs 1 shard |")
    print("|---|---|---|---|")
    first = None
    for tool in tools:
        s = summarize(tool)
        per_cpu_s = 1e6 / s["cpu"]
        first = first or per_cpu_s
        print(f"| {tool.name} | {s['ops_s']:,.0f} | {per_cpu_s:,.0f} | {per_cpu_s / first:.2f} |")
    sys.stdout.flush()


def tls_table(args, pin, first_cpu):
    """What --tls costs: shardslap with and without it against one memcached -Z (its plain
    listener and its TLS one), alternated, so the ratios come from the same run."""
    if not shutil.which("openssl"):
        print("\n(tls scenario skipped: no openssl to make a certificate)")
        return
    with tempfile.TemporaryDirectory() as directory:
        ca, cert, key = test_certificate(directory)
        port, tls_port = free_port(), free_port()
        server = Server(args.server_cpu, port, tls=(tls_port, cert, key))
        try:
            common = ["-T", "1", "--cores", first_cpu, "-c", "16", "-t", "{secs}s", "-q",
                      "--json", "{json}"]
            tools = [Tool("shardslap (plain TCP)", pin + [SHARDSLAP, "-s", f"127.0.0.1:{port}"]
                          + common, parse_shardslap),
                     Tool("shardslap --tls", pin + [SHARDSLAP, "-s", f"127.0.0.1:{tls_port}",
                                                    "--tls", "--tls-ca", ca] + common,
                          parse_shardslap)]
            for _ in range(args.rounds):
                for tool in tools:
                    tool.run(args.secs, [], server)
            table("TLS (rustls) against plain TCP, memaslap's default workload, -c 16, one "
                  "client core, one memcached -Z", tools, tools[0])
        finally:
            server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpus", default="1")
    ap.add_argument("--scenarios", default="default,pipeline,paced,tls,scaling")
    args = ap.parse_args()
    scenarios = args.scenarios.split(",")
    counters = SyscallCounter.available()
    memtier = shutil.which("memtier_benchmark")
    if not shutil.which("memcaslap"):
        sys.exit("bench: memcaslap not found (apt-get install libmemcached-tools)")

    port = free_port()
    server = Server(args.server_cpu, port)
    addr = f"127.0.0.1:{port}"
    pin = ["taskset", "-c", args.client_cpus]
    first_cpu = args.client_cpus.split(",")[0].split("-")[0]
    one_in_flight = None
    baseline_tools = None
    piped_tool = None
    try:
        print(f"memcached -t 1 on CPU {args.server_cpu}; clients on CPU(s) {args.client_cpus}; "
              f"{args.secs} s per run, {args.rounds} rounds, medians; "
              f"`scripts/bench.sh {' '.join(sys.argv[1:])}`")
        print("syscalls per op: " + ("; ".join(c.describe() for c in counters)
                                     or "not counted (neither perf nor strace)"))

        def one_core_shardslap(*extra):
            """shardslap on the first client CPU with memaslap's -c 16, plus `extra`."""
            return pin + [SHARDSLAP, "-s", addr, "-T", "1", "--cores", first_cpu, "-c", "16",
                          *extra, "-t", "{secs}s", "-q", "--json", "{json}"]

        if "default" in scenarios:
            memaslap = Tool("memaslap", pin + ["memcaslap", "-s", addr, "-T", "1", "-c", "16",
                                               "-t", "{secs}s"], parse_memaslap)
            shard_argv = one_core_shardslap()
            shard = Tool("shardslap", shard_argv, parse_shardslap)
            # The fallback data path (glommio's sockets), for what the ring buys.
            fallback = Tool("shardslap (glommio fallback)", shard_argv, parse_shardslap,
                            env={"SHARDSLAP_DATA_PATH": "glommio"})
            tools = [memaslap, shard, fallback]
            for _ in range(args.rounds):
                for tool in tools:
                    tool.run(args.secs, counters, server)
            table("memaslap's default workload, -c 16, one client core", tools, memaslap)
            one_in_flight = summarize(memaslap)
            baseline_tools = (memaslap, shard, fallback)
        if "pipeline" in scenarios:
            tools = []
            if memtier:
                # memaslap's workload GETs only stored items (hits); give memtier the same by
                # storing its whole key range into each fresh server first, or its GETs would
                # be cheap misses.
                store_all = pin + [
                    memtier, "-s", "127.0.0.1", "-p", str(port), "-P", "memcache_text", "-t", "1",
                    "-c", "1", "--ratio=1:0", "--key-pattern=P:P", "--requests=allkeys",
                    "-d", "1024", "--key-maximum=163840", "--hide-histogram"]
                tools.append(Tool("memtier_benchmark --pipeline=16", pin + [
                    memtier, "-s", "127.0.0.1", "-p", str(port), "-P", "memcache_text", "-t", "1",
                    "-c", "16", "--pipeline=16", "--ratio=1:9", "-d", "1024",
                    "--key-maximum=163840", "--test-time={secs}", "--hide-histogram"], parse_memtier,
                    prepare=store_all))
            tools.append(Tool("shardslap --pipeline 16", one_core_shardslap("--pipeline", "16"),
                              parse_shardslap))
            try:
                for _ in range(args.rounds):
                    for tool in tools:
                        tool.run(args.secs, counters, server)
                table("--pipeline 16, -c 16, one client core", tools, tools[0] if memtier else None)
                piped_tool = tools[-1]
                if one_in_flight:
                    piped = summarize(tools[-1])
                    print(f"\nshardslap --pipeline 16 CPU/op against memaslap's one-in-flight CPU/op "
                          f"in this run: {piped['cpu'] / one_in_flight['cpu']:.2f}×")
            except SystemExit as err:
                print(f"\n(pipeline scenario skipped: {str(err).splitlines()[0]})")
        if "paced" in scenarios:
            # Paced at a third of the server's capacity: latency runs from each request's
            # scheduled time (memaslap-compat.md, `-P`), so a client that sends late (a
            # wake-up late, on a virtual machine tens of µs) adds its lateness to every
            # latency it reports.
            paced_argv = one_core_shardslap("-P", str(PACED_RATE))
            tools = [Tool(f"shardslap -P {PACED_RATE}", paced_argv, parse_shardslap),
                     Tool(f"shardslap -P {PACED_RATE} (glommio fallback)", paced_argv,
                          parse_shardslap, env={"SHARDSLAP_DATA_PATH": "glommio"})]
            for _ in range(args.rounds):
                for tool in tools:
                    tool.run(args.secs, [], server)
            table(f"Paced: -P {PACED_RATE} (latency from each request's due time), -c 16, one "
                  "client core", tools, None)
        if baseline_tools:
            targets_table(*baseline_tools, piped_tool)
        if "tls" in scenarios:
            tls_table(args, pin, first_cpu)
        if "scaling" in scenarios:
            tools = [Tool(f"{n} shard(s) on CPUs {cpus}", ["taskset", "-c", cpus, SHARDSLAP, "-s", addr,
                          "-T", str(n), "--cores", cpus, "-c", "16", "-t", "{secs}s", "-q",
                          "--json", "{json}"], parse_shardslap)
                     for n, cpus in [(1, first_cpu), (2, first_cpu), (8, first_cpu),
                                     (2, "0-1"), (8, "0-1")]]
            for _ in range(args.rounds):
                for tool in tools:
                    tool.run(args.secs, [], server)
            scaling_table(tools)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
