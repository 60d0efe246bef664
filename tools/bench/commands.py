#!/usr/bin/env python3
"""What a command costs (issue 15): iptables-legacy, iptables-nft and xdptables (the
build-bench binary of HEAD) in the same run, each measurement in a fresh network namespace:

  script    an admin's script of single commands, one process each, shaped like
            pcn-iptables' enterprise script: `-P INPUT DROP`, the ESTABLISHED,RELATED
            accept, then N `-A INPUT` lines (a third per-source accepts, a third per-port
            accepts, a third source+port drops), run as `ip netns exec NS sh script`;
  ops       one -A, -I 1, -D (the rule spec of a middle rule), -R (a middle rule) and -Z
            at a ruleset size, after a restore of that size;
  restore   restore of a ruleset of that shape: wall time, and peak RSS (/usr/bin/time);
  parallel  8 writers of 50 appends each, with -w, at once.

Run through `tools/bench/run commands [--quick]` (which builds first). Namespaces are named
benchcmd-* and removed at the end; nothing else is touched. Prints the tables and writes
tools/bench/results/commands.md and commands.json.
"""
import argparse
import json
import os
import shlex
import signal
import subprocess
import sys

import bench
from bench import log, med, paired, sh

SYSTEMS = ["legacy", "nft", "xdptables"]
LABEL = bench.LABEL
ESTABLISHED = "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
WRITERS, APPENDS = 8, 50

# The command in the namespace, timed there by bash's clock (no process between the two
# readings but the command itself), its stdin from $XB_IN.
TIMED = 's=$EPOCHREALTIME; "$@" <"$XB_IN" >/dev/null || exit 3; e=$EPOCHREALTIME; echo "$s $e"'


def timed(ns, cmd, stdin=None, timeout=600):
    """Wall time of `cmd` inside `ns`, in seconds. On timeout the whole process group
    (the command and what it started) is killed."""
    env = dict(os.environ, XB_IN=stdin or "/dev/null", LC_ALL="C")
    p = subprocess.Popen(["ip", "netns", "exec", ns, "bash", "-c", TIMED, "timed"] + cmd, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise RuntimeError(f"{' '.join(cmd)} in {ns}: no end after {timeout} s")
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} in {ns}: exit {p.returncode}: {err.strip()[:500]}")
    s, e = (int(x.replace(".", "")) for x in out.split())
    return (e - s) / 1e6


def peak_rss(ns, cmd, stdin, workdir, timeout=600):
    """Peak RSS (KiB) of `cmd` run inside `ns` by /usr/bin/time, whose fork gives the
    child its own small image (what the child had before its exec counts too: time's
    own ~1 MiB is the floor)."""
    out = os.path.join(workdir, "rss")
    timed(ns, ["/usr/bin/time", "-f", "%M", "-o", out] + cmd, stdin, timeout)
    with open(out) as f:
        return int(f.read().split()[-1])


# ---------------------------------------------------------------- namespaces

def fresh(system):
    """A new namespace benchcmd-<system>: lo and a veth pair (xdptables attaches to it,
    as on a real host)."""
    ns = f"benchcmd-{system}"
    bench.ns_create(ns)
    sh(["ip", "link", "add", "bc0", "type", "veth", "peer", "name", "bc1"], ns=ns)
    sh(["ip", "link", "set", "bc0", "up"], ns=ns)
    sh(["ip", "link", "set", "bc1", "up"], ns=ns)
    sh(["ip", "addr", "add", "198.18.9.1/24", "dev", "bc0"], ns=ns)
    return ns


def drop(ns):
    bench.ns_delete(ns)
    while ns in bench.created:
        bench.created.remove(ns)


def check(system, ns, rules, policy):
    """The namespace holds `rules` rules in INPUT under `policy`."""
    lines = sh(bench.CLI[system] + ["-S", "INPUT"], ns=ns).splitlines()
    got = sum(1 for l in lines if l.startswith("-A INPUT "))
    if got != rules or f"-P INPUT {policy}" not in lines:
        raise RuntimeError(f"{LABEL[system]} in {ns}: {got} rules (expected {rules}), "
                           f"policy {lines[:1]} (expected {policy})")


# ---------------------------------------------------------------- rulesets

def rule(i):
    """Rule i of the enterprise shape, all distinct: per-source accept, per-port accept,
    source+port drop, in turn (addresses in 198.18.0.0/15)."""
    k, kind = divmod(i, 3)
    if kind == 0:
        return f"-s 198.18.{k >> 8 & 255}.{k & 255}/32 -j ACCEPT"
    if kind == 1:
        return f"-p tcp --dport {1 + k} -j ACCEPT"
    return f"-s 198.19.{k % 256}.0/24 -p udp --dport {1024 + k} -j DROP"


def script(system, n):
    """The admin's script: the policy, the ESTABLISHED,RELATED accept, N appends (N+2
    commands, N+1 rules)."""
    assert n <= 3 * 60000
    cmd = " ".join(shlex.quote(w) for w in bench.CLI[system])
    out = ["set -e", f"{cmd} -P INPUT DROP", f"{cmd} -A INPUT {ESTABLISHED}"]
    out += [f"{cmd} -A INPUT {rule(i)}" for i in range(n)]
    return "\n".join(out) + "\n"


def ruleset(size):
    """The same shape as restore input, `size` rules in all."""
    out = ["*filter", ":INPUT DROP [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    if size:
        out.append(f"-A INPUT {ESTABLISHED}")
    out += [f"-A INPUT {rule(i)}" for i in range(size - 1)]
    return "\n".join(out + ["COMMIT", ""])


def writers(system):
    """8 writers at once, 50 appends each with -w; fails if any append does."""
    cmd = " ".join(shlex.quote(w) for w in bench.CLI[system][:1] + ["-w", "60"])
    return (f"pids=\n"
            f"for w in $(seq 1 {WRITERS}); do\n"
            f"  ( i=0; while [ $i -lt {APPENDS} ]; do\n"
            f"      {cmd} -A INPUT -s 198.19.$w.$i/32 -p tcp --dport $((1000 + i)) -j ACCEPT || exit 1\n"
            f"      i=$((i + 1)); done ) &\n"
            f"  pids=\"$pids $!\"\n"
            f"done\n"
            f"rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc\n")


def summary(runs):
    return {"runs": runs, "median": med(runs)}


def ratios(runs):
    """xdptables over each of the others: the median of the ratios of runs taken together."""
    return {s: paired(runs["xdptables"], runs[s]) for s in ("legacy", "nft")}


# ---------------------------------------------------------------- the parts

def part_script(cfg, workdir, res):
    for n in cfg.script_ns:
        paths = {s: bench.write_rules(workdir, f"script-{s}-{n}.sh", script(s, n)) for s in SYSTEMS}
        runs = {s: [] for s in SYSTEMS}
        for r in range(cfg.script_runs if n < 10000 else 1):
            for s in SYSTEMS:
                ns = fresh(s)
                runs[s].append(timed(ns, ["sh", paths[s]], timeout=120 + n))
                check(s, ns, n + 1, "DROP")
                drop(ns)
            log(f"== script of {n + 2} commands, run {r + 1}: " +
                ", ".join(f"{LABEL[s]} {runs[s][-1]:.2f} s" for s in SYSTEMS))
        res["script"][n] = {s: summary(v) for s, v in runs.items()}
        res["script"][n]["ratio"] = ratios(runs)
        res["script"][n]["commands"] = n + 2


def part_ops(cfg, workdir, res):
    """The three systems hold the same ruleset at once, and each repetition runs the five
    commands in each, in turn; then puts the ruleset back to `size` rules (not timed)."""
    for size in cfg.op_sizes:
        path = bench.write_rules(workdir, f"rules-{size}.rules", ruleset(size))
        nss = {}
        for s in SYSTEMS:
            nss[s] = fresh(s)
            timed(nss[s], bench.RESTORE[s], path)
        pos = size // 2 + 1  # the middle rule's position (rule 1 is ESTABLISHED,RELATED)
        middle = rule(pos - 2).split()
        spec_a = "-s 198.19.255.201/32 -p udp --dport 7 -j DROP".split()
        spec_i = "-s 198.19.255.202/32 -p udp --dport 7 -j DROP".split()
        times = {op: {s: [] for s in SYSTEMS} for op in "AIDRZ"}
        reps = cfg.reps if size < 50000 else cfg.reps_50k
        for rep in range(reps):
            spec_r = f"-s 198.19.254.{1 + rep % 2}/32 -p tcp --dport 8 -j ACCEPT".split()  # a change every time
            for s in SYSTEMS:
                cli, ns = bench.CLI[s], nss[s]
                for op, args in (("A", ["-A", "INPUT"] + spec_a), ("I", ["-I", "INPUT", "1"] + spec_i),
                                 ("D", ["-D", "INPUT"] + middle), ("R", ["-R", "INPUT", str(pos)] + spec_r),
                                 ("Z", ["-Z"])):
                    times[op][s].append(timed(ns, cli + args))
                for args in (["-D", "INPUT"] + spec_a, ["-D", "INPUT", "1"], ["-I", "INPUT", str(pos)] + middle):
                    sh(cli + args, ns=ns)
        for s in SYSTEMS:
            check(s, nss[s], size, "DROP")
            drop(nss[s])
        res["ops"][size] = {op: dict({s: summary(v) for s, v in t.items()}, ratio=ratios(t))
                            for op, t in times.items()}
        res["ops"][size]["reps"] = reps
        log(f"== one command at {size} rules (ms): " + "; ".join(
            f"-{op} " + ", ".join(f"{LABEL[s]} {med(t[s]) * 1e3:.1f}" for s in SYSTEMS) for op, t in times.items()))


def part_restore(cfg, workdir, res):
    """Wall time: runs with nothing around the command; peak RSS: one more run under
    /usr/bin/time (whose own fork and exec would count in the time)."""
    for size in cfg.restore_sizes:
        path = bench.write_rules(workdir, f"rules-{size}.rules", ruleset(size))
        runs, rss = {s: [] for s in SYSTEMS}, {}
        for r in range(cfg.restore_runs):
            for s in SYSTEMS:
                ns = fresh(s)
                runs[s].append(timed(ns, bench.RESTORE[s], path))
                if r == 0:
                    check(s, ns, size, "DROP")
                drop(ns)
        for s in SYSTEMS:
            ns = fresh(s)
            rss[s] = peak_rss(ns, bench.RESTORE[s], path, workdir)
            drop(ns)
        res["restore"][size] = {s: dict(summary(runs[s]), rss_kib=rss[s]) for s in SYSTEMS}
        res["restore"][size]["ratio"] = ratios(runs)
        res["restore"][size]["ratio_rss"] = {s: rss["xdptables"] / rss[s] for s in ("legacy", "nft")}
        log(f"== restore of {size} rules: " + ", ".join(
            f"{LABEL[s]} {med(runs[s]):.3f} s {rss[s] / 1024:.1f} MiB" for s in SYSTEMS))


def part_parallel(cfg, workdir, res):
    empty = bench.write_rules(workdir, "empty.rules", ruleset(0))
    paths = {s: bench.write_rules(workdir, f"writers-{s}.sh", writers(s)) for s in SYSTEMS}
    runs = {s: [] for s in SYSTEMS}
    for r in range(cfg.parallel_runs):
        for s in SYSTEMS:
            ns = fresh(s)
            timed(ns, bench.RESTORE[s], empty)  # the table (and xdptables' program) in place
            runs[s].append(timed(ns, ["sh", paths[s]], timeout=900))
            check(s, ns, WRITERS * APPENDS, "DROP")
            drop(ns)
        log(f"== {WRITERS} writers x {APPENDS} appends, run {r + 1}: " +
            ", ".join(f"{LABEL[s]} {runs[s][-1]:.2f} s" for s in SYSTEMS))
    res["parallel"] = {s: summary(v) for s, v in runs.items()}
    res["parallel"]["ratio"] = ratios(runs)


# ---------------------------------------------------------------- report

def size_name(n):
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def report(cfg, res):
    m = res["machine"]
    q = " **QUICK run (--quick: small sizes, few runs): a placeholder, not the figures.**" if cfg.quick else ""
    L = ["# Per-command cost: iptables-legacy, iptables-nft, xdptables", "",
         f"`tools/bench/run commands{' --quick' if cfg.quick else ''}` (tools/bench/commands.py).{q}", "",
         f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['mem']}, Linux {m['kernel']}; {m['date']}; commit "
         f"{m['commit']}; load average {m['load_before']} before, {m['load_after']} after; "
         f"{m['iptables']}, {m['iptables_nft']}, {m['xdptables']}.", "",
         "Each measurement in a fresh network namespace (lo and a veth pair), every command with `-w`; "
         "times are wall times taken inside the namespace. Ratios: xdptables over the other, the median "
         "of the ratios of runs taken together (above 1: xdptables is slower or bigger).", ""]
    once = ", 1 at 10k" if any(n >= 10000 for n in cfg.script_ns) else ""
    L += [f"## A script of single commands ({cfg.script_runs} run{'s' if cfg.script_runs > 1 else ''}{once})", "",
          "`-P INPUT DROP`, `-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`, then N `-A INPUT` "
          "lines: in turn `-s 198.18.x.y/32 -j ACCEPT`, `-p tcp --dport P -j ACCEPT`, "
          "`-s 198.19.x.0/24 -p udp --dport P -j DROP`; one process per command, `ip netns exec NS sh script`. "
          "Seconds in all (ms per command).", "",
          "| N | iptables-legacy | iptables-nft | xdptables | xdpt/legacy | xdpt/nft |",
          "|---:|---:|---:|---:|---:|---:|"]
    for n, r in res["script"].items():
        cell = lambda s: f"{r[s]['median']:.2f} ({r[s]['median'] / r['commands'] * 1e3:.1f})"
        L.append(f"| {n} | {cell('legacy')} | {cell('nft')} | {cell('xdptables')} | "
                 f"{r['ratio']['legacy']:.2f} | {r['ratio']['nft']:.2f} |")
    L += ["", f"## One command at a ruleset size (ms, median of {cfg.reps} repetitions"
          f"{f', {cfg.reps_50k} at 50k' if 50000 in cfg.op_sizes else ''})", "",
          "After a restore of the script's shape (`size` rules, ESTABLISHED,RELATED first, policy DROP): "
          "`-A INPUT` a new rule, `-I INPUT 1` a new rule, `-D INPUT` with the rule spec of the middle rule, "
          "`-R INPUT` at the middle position, `-Z`; after each repetition the ruleset is put back to `size` rules.",
          "", "| rules | command | iptables-legacy | iptables-nft | xdptables | xdpt/legacy | xdpt/nft |",
          "|---:|---|---:|---:|---:|---:|---:|"]
    names = {"A": "-A", "I": "-I 1", "D": "-D (spec)", "R": "-R", "Z": "-Z"}
    for size, r in res["ops"].items():
        for op, name in names.items():
            o = r[op]
            L.append(f"| {size_name(size)} | {name} | " + " | ".join(f"{o[s]['median'] * 1e3:.1f}" for s in SYSTEMS) +
                     f" | {o['ratio']['legacy']:.2f} | {o['ratio']['nft']:.2f} |")
    L += ["", f"## Restore (median of {cfg.restore_runs} run{'s' if cfg.restore_runs > 1 else ''}; "
          "peak RSS of one more run under `/usr/bin/time -f %M`)", "",
          "| rules | iptables-legacy s | iptables-nft s | xdptables s | xdpt/legacy | xdpt/nft "
          "| legacy MiB | nft MiB | xdptables MiB | xdpt/legacy | xdpt/nft |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, r in res["restore"].items():
        L.append(f"| {size_name(size)} | " + " | ".join(f"{r[s]['median']:.3f}" for s in SYSTEMS) +
                 f" | {r['ratio']['legacy']:.2f} | {r['ratio']['nft']:.2f} | " +
                 " | ".join(f"{r[s]['rss_kib'] / 1024:.1f}" for s in SYSTEMS) +
                 f" | {r['ratio_rss']['legacy']:.2f} | {r['ratio_rss']['nft']:.2f} |")
    p = res["parallel"]
    L += ["", f"## Parallel writers (median of {cfg.parallel_runs} run{'s' if cfg.parallel_runs > 1 else ''})", "",
          f"{WRITERS} processes of {APPENDS} `-A INPUT` each (`-w 60`), at once, into an empty ruleset; seconds "
          "until the last one ends.", "",
          "| writers x appends | iptables-legacy | iptables-nft | xdptables | xdpt/legacy | xdpt/nft |",
          "|---|---:|---:|---:|---:|---:|",
          f"| {WRITERS} x {APPENDS} | " + " | ".join(f"{p[s]['median']:.2f}" for s in SYSTEMS) +
          f" | {p['ratio']['legacy']:.2f} | {p['ratio']['nft']:.2f} |"]
    return "\n".join(L) + "\n"


def machine():
    m = bench.machine()
    m["commit_full"] = open(os.path.join(bench.BUILD, "snapshot.rev")).read().strip()
    m["iptables_nft"] = sh(["iptables-nft", "-V"]).strip()
    m["xdptables"] = sh([os.path.join(bench.XDPT_BIN, "xdptables"), "version"]).strip()
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs (a check that it works)")
    ap.add_argument("--only", help="some of the parts: script,ops,restore,parallel")
    ap.add_argument("--out", default=os.path.join(bench.HERE, "results", "commands.json"))
    cfg = ap.parse_args()
    if cfg.quick:
        cfg.script_ns, cfg.op_sizes, cfg.restore_sizes = [200, 1000], [10, 1000, 10000], [1000, 10000]
        cfg.script_runs, cfg.reps, cfg.reps_50k, cfg.restore_runs, cfg.parallel_runs = 1, 5, 3, 1, 1
    else:
        cfg.script_ns, cfg.op_sizes, cfg.restore_sizes = [1000, 10000], [10, 1000, 10000, 50000], [1000, 10000, 50000]
        cfg.script_runs, cfg.reps, cfg.reps_50k, cfg.restore_runs, cfg.parallel_runs = 3, 9, 5, 3, 3
    parts = (cfg.only or "script,ops,restore,parallel").split(",")
    if os.geteuid() != 0:
        sys.exit("commands: run as root")
    if not os.access("/usr/bin/time", os.X_OK):
        sys.exit("commands: /usr/bin/time missing (Debian package time; tools/install-deps.sh installs it)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the namespaces go in `finally`
    res = {"machine": machine(), "config": dict(vars(cfg)), "script": {}, "ops": {}, "restore": {}, "parallel": {}}
    workdir = os.path.join(bench.BUILD, "bench", "work-commands")
    os.makedirs(workdir, exist_ok=True)
    try:
        for name, part in (("script", part_script), ("ops", part_ops), ("restore", part_restore),
                           ("parallel", part_parallel)):
            if name in parts:
                part(cfg, workdir, res)
    finally:
        bench.cleanup()
    res["machine"]["load_after"] = open("/proc/loadavg").read().split()[0]
    if cfg.only:  # a partial run leaves the committed results alone
        json.dump(res, sys.stdout, indent=1, default=str)
        return
    with open(cfg.out, "w") as f:
        json.dump(res, f, indent=1, default=str)
    md = report(cfg, res)
    with open(os.path.splitext(cfg.out)[0] + ".md", "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
