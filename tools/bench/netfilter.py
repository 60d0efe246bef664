#!/usr/bin/env python3
"""Accepted traffic through the netfilter layer (issue 14): UDP datagrams per second
delivered through a namespace whose INPUT accepts them with its last rule of N, against
no firewall, iptables-legacy and iptables-nft, and xdptables before and after a change,
all in the same run, interleaved.

XDP passes every packet it does not drop up to netfilter, which judges (and counts) it
again: accepted traffic pays the XDP classifier and the whole netfilter chain. Two
rulesets, each N - 1 rules the flood does not match, then `-p udp --dport 9 -j ACCEPT`:
  xdp        `-p udp -m udp --dport P -j DROP` (distinct ports): rules XDP decides;
  netfilter  `-p udp -m mark --mark M -j DROP` (distinct marks): the packet mark is not
             seen in XDP, so these rules are netfilter's alone.
The flood: trafgen, 60-byte UDP frames from a generator namespace over a veth to port 9
of the DUT (no listener); the rate is the DUT's UDP datagrams delivered (Udp InDatagrams
+ NoPorts) per second after a warm-up. The ACCEPT rule must have counted them all.

A third shape, `conn`, is stateful and counts TCP connections per second:
  conn       `-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT` first, N - 2 rules
             `-p tcp -m tcp --dport P -j ACCEPT` (other ports), then the service's
             `-p tcp -m tcp --dport 5001 -j ACCEPT`, policy DROP: each connection's SYN
             walks the whole chain, its other packets meet the first rule.
connrate (connrate.c) in a client namespace of its own (a second veth, 198.18.1.0/24)
connects, sends a byte, reads the byte back and the server's close, one connection after
the other; the figure is connections per second.

Run through `tools/bench/run netfilter [--quick] [--before PATH] [--prefix NAME-]`
(which builds HEAD first; --before: the bin directory of the xdptables to compare with).
Namespaces are named PREFIX* (default xbench-nf-) and removed at the end.
"""
import argparse
import json
import os
import signal
import sys
import time

import bench
from bench import sh, log, med, paired

FLOOD_DPORT = 9
DUT_ADDR, GEN_ADDR = "198.18.0.2", "198.18.0.1"
CONN_DUT, CONN_CLI, CONN_PORT = "198.18.1.2", "198.18.1.1", 5001
CONNRATE = os.path.join(bench.BUILD, "bench", "connrate")
LABEL = {"none": "no firewall", "pass": "XDP_PASS only", "legacy": "iptables-legacy", "nft": "iptables-nft",
         "before": "xdptables before", "after": "xdptables after"}
PASS_OBJ = os.path.join(bench.BUILD, "bench", "pass.bpf.o")


def ruleset(shape, n):
    if shape == "conn":
        out = ["*filter", ":INPUT DROP [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
               "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
        out += [f"-A INPUT -p tcp -m tcp --dport {10000 + i % 50000} -j ACCEPT" for i in range(n - 2)]
        out.append(f"-A INPUT -p tcp -m tcp --dport {CONN_PORT} -j ACCEPT")
        return "\n".join(out + ["COMMIT", ""])
    out = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for i in range(n - 1):
        if shape == "xdp":
            out.append(f"-A INPUT -p udp -m udp --dport {10 + i % 60000} -j DROP")
        else:
            out.append(f"-A INPUT -p udp -m mark --mark 0x{i + 1:x} -j DROP")
    out.append(f"-A INPUT -p udp -m udp --dport {FLOOD_DPORT} -j ACCEPT")
    return "\n".join(out + ["COMMIT", ""])


class Bench:
    def __init__(self, cfg):
        self.cfg = cfg
        self.gen = f"{cfg.prefix}gen"
        self.restore = {"legacy": ["iptables-legacy-restore", "-w", "5"],
                        "nft": ["iptables-nft-restore", "-w", "5"],
                        "after": [os.path.join(cfg.after, "xdptables-restore"), "-w", "5"]}
        self.cli = {"legacy": ["iptables-legacy", "-w", "5"], "nft": ["iptables-nft", "-w", "5"],
                    "after": [os.path.join(cfg.after, "xdptables"), "-w", "5"]}
        if cfg.before:
            self.restore["before"] = [os.path.join(cfg.before, "xdptables-restore"), "-w", "5"]
            self.cli["before"] = [os.path.join(cfg.before, "xdptables"), "-w", "5"]
        # "pass": no firewall, a one-instruction XDP_PASS program on the DUT's veth in
        # generic mode as xdptables attaches there (what XDP costs before any classifier).
        self.systems = ["none", "pass", "legacy", "nft"] + (["before"] if cfg.before else []) + ["after"]

    def ns(self, system):
        return f"{self.cfg.prefix}{system}"

    def setup(self, system):
        """DUT namespace PREFIX<system>: veth nfd 198.18.0.2/24, its peer in the generator
        namespace. Returns the flood frame for it."""
        ns = self.ns(system)
        bench.ns_create(ns)
        for conf in ("all", "default"):
            sh(["sysctl", "-qw", f"net.ipv4.conf.{conf}.rp_filter=0"], ns=ns)
        gen_if = f"nfg-{system}"[:15]
        sh(["ip", "link", "add", gen_if, "netns", self.gen, "type", "veth", "peer", "name", "nfd", "netns", ns])
        sh(["ip", "addr", "add", f"{DUT_ADDR}/24", "dev", "nfd"], ns=ns)
        sh(["ip", "link", "set", "nfd", "up"], ns=ns)
        sh(["ip", "link", "set", gen_if, "up"], ns=self.gen)
        gen_mac = json.loads(sh(["ip", "-n", self.gen, "-j", "link", "show", "dev", gen_if]))[0]["address"]
        dut_mac = json.loads(sh(["ip", "-n", ns, "-j", "link", "show", "dev", "nfd"]))[0]["address"]
        sh(["ip", "neigh", "replace", GEN_ADDR, "lladdr", gen_mac, "dev", "nfd", "nud", "permanent"], ns=ns)
        # The conn shape's client, over a second veth (before any ruleset: xdptables
        # attaches to it too).
        cli = self.cli_ns(system)
        bench.ns_create(cli)
        sh(["ip", "link", "add", "nfc", "netns", ns, "type", "veth", "peer", "name", "cli", "netns", cli])
        sh(["ip", "addr", "add", f"{CONN_DUT}/24", "dev", "nfc"], ns=ns)
        sh(["ip", "link", "set", "nfc", "up"], ns=ns)
        sh(["ip", "addr", "add", f"{CONN_CLI}/24", "dev", "cli"], ns=cli)
        sh(["ip", "link", "set", "cli", "up"], ns=cli)
        if system == "pass":
            for dev in ("nfd", "nfc"):
                sh(["ip", "link", "set", "dev", dev, "xdpgeneric", "obj", PASS_OBJ, "sec", "xdp"], ns=ns)
        return bench.frame(dut_mac, gen_mac, GEN_ADDR, DUT_ADDR, 1000, FLOOD_DPORT)

    def cli_ns(self, system):
        return f"{self.cfg.prefix}c-{system}"

    def connrate(self, system):
        """Connections per second from the client namespace to the DUT's server."""
        limit = self.cfg.warm + self.cfg.window + 5
        srv = bench.subprocess.Popen(
            ["ip", "netns", "exec", self.ns(system), "timeout", str(int(limit + 5)), CONNRATE, "-l", CONN_DUT,
             str(CONN_PORT), str(limit)], stdout=bench.subprocess.DEVNULL, stderr=bench.subprocess.PIPE)
        try:
            time.sleep(0.3)
            out = sh(["timeout", str(int(limit + 5)), CONNRATE, "-c", CONN_DUT, str(CONN_PORT), str(self.cfg.warm),
                      str(self.cfg.window)], ns=self.cli_ns(system))
        finally:
            srv.terminate()
            srv.wait()
        return float(out.split()[0])

    def delivered(self, system):
        """UDP datagrams the DUT's stack delivered (to a socket or to no port)."""
        lines = [l.split() for l in sh(["cat", "/proc/net/snmp"], ns=self.ns(system)).splitlines()
                 if l.startswith("Udp:")]
        h, v = lines[0], [int(x) for x in lines[1][1:]]
        return v[h.index("InDatagrams") - 1] + v[h.index("NoPorts") - 1]

    def accepted(self, system, n):
        if system in ("none", "pass"):
            return None
        out = sh(self.cli[system] + ["-L", "INPUT", str(n), "-v", "-x", "-n"], ns=self.ns(system))
        return int(out.split()[0])

    def flood(self, system, conf):
        gen_if = f"nfg-{system}"[:15]
        limit = int(self.cfg.warm + self.cfg.window + 10)
        # Bounded in count (20 M frames) and time (timeout); stopped after the window.
        p = bench.subprocess.Popen(
            ["timeout", str(limit), "ip", "netns", "exec", self.gen, "trafgen", "--dev", gen_if, "--conf", conf,
             "--cpus", "1", "--num", "20000000", "--no-sock-mem", "--notouch-irq", "--no-cpu-stats"],
            stdout=bench.subprocess.DEVNULL, stderr=bench.subprocess.PIPE, text=True)
        try:
            time.sleep(self.cfg.warm)
            if p.poll() is not None:
                raise RuntimeError(f"trafgen stopped: {p.stderr.read()[:500]}")
            c0, t0 = self.delivered(system), time.monotonic()
            time.sleep(self.cfg.window)
            c1, t1 = self.delivered(system), time.monotonic()
        finally:
            p.terminate()
            try:
                p.wait(timeout=10)
            except bench.subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return (c1 - c0) / (t1 - t0)

    def run(self, workdir, res):
        bench.ns_create(self.gen)
        confs = {s: bench.write_rules(workdir, f"nf-flood-{s}.cfg", bench.trafgen_conf(self.setup(s)))
                 for s in self.systems}
        for shape in self.cfg.shapes:
            for n in self.cfg.ns:
                text = ruleset(shape, n)
                path = bench.write_rules(workdir, f"nf-{shape}-{n}.rules", text)
                key = f"{shape}/{n}"
                log(f"== {shape}, N = {n}")
                r = res.setdefault(key, {"load_s": {}})
                for s in self.systems:
                    if s not in ("none", "pass"):
                        r["load_s"][s] = bench.timed(self.restore[s], self.ns(s), path)
                base = {s: (self.delivered(s), self.accepted(s, n)) for s in self.systems}
                per = {s: [] for s in self.systems}
                for k in range(self.cfg.runs):
                    for s in self.systems:
                        per[s].append(self.connrate(s) if shape == "conn" else self.flood(s, confs[s]))
                    unit = "k conn/s" if shape == "conn" else "kpps"
                    log(f"   run {k + 1}: " + ", ".join(f"{s} {per[s][-1] / 1e3:.1f}" for s in self.systems) + " " + unit)
                # The last rule accepted every datagram the stack delivered.
                share = {}
                for s in self.systems:
                    got = self.accepted(s, n)
                    d = self.delivered(s) - base[s][0]
                    share[s] = None if got is None or shape == "conn" else round((got - base[s][1]) / d, 4) if d else 0.0
                r["kpps"] = {s: med(v) / 1e3 for s, v in per.items()}
                r["runs"] = per
                r["accept_share"] = share
                r["ratio"] = {f"after/{s}": paired(per["after"], per[s]) for s in self.systems if s != "after"}
        for s in self.systems:
            bench.ns_delete(self.ns(s))
            bench.ns_delete(self.cli_ns(s))
        bench.ns_delete(self.gen)


def report(cfg, res, systems):
    m = res["machine"]
    L = [f"Machine: {m['cpu']}, {m['cpus']} CPUs, Linux {m['kernel']}; {m['date']}; commit {m['commit']}; "
         f"load average {m['load_before']} before, {m['load_after']} after; {cfg.runs} runs of {cfg.window} s "
         f"per figure, the systems interleaved; xdptables before: {cfg.before or '-'}.", "",
         "Accepted UDP through INPUT, kpps; for conn, TCP connections per second in thousands "
         "(medians; ratios: medians of the ratios of runs taken together). "
         "The flood's ACCEPT rule is the last of N.", "",
         "| ruleset | N | " + " | ".join(LABEL[s] for s in systems) + " | after/before | after/nft | after/legacy |",
         "|---|---:|" + "---:|" * (len(systems) + 3)]
    for key, r in res.items():
        if "/" not in key:
            continue
        shape, n = key.split("/")
        rt = r["ratio"]
        f = lambda k: f"{rt[k]:.2f}" if rt.get(k) else "-"
        L.append(f"| {shape} | {n} | " + " | ".join(f"{r['kpps'][s]:.1f}" for s in systems) +
                 f" | {f('after/before')} | {f('after/nft')} | {f('after/legacy')} |")
    L += ["", "Check: share of the delivered datagrams the ACCEPT rule counted (1 = all): " +
          "; ".join(f"{k}: " + ", ".join(f"{s} {v}" for s, v in r["accept_share"].items() if v is not None)
                    for k, r in res.items() if "/" in k)]
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--before", help="bin directory of the xdptables to compare with (xdptables, xdptables-restore)")
    ap.add_argument("--after", default=bench.XDPT_BIN, help="bin directory of the xdptables measured (HEAD's build)")
    ap.add_argument("--prefix", default="xbench-nf-", help="namespace name prefix")
    ap.add_argument("--shapes", default="xdp,netfilter,conn")
    ap.add_argument("--out", default=os.path.join(bench.HERE, "results", "netfilter.json"))
    cfg = ap.parse_args()
    cfg.shapes = cfg.shapes.split(",")
    if cfg.quick:
        cfg.ns, cfg.runs, cfg.warm, cfg.window = [10, 1000], 1, 0.5, 1.0
    else:
        cfg.ns, cfg.runs, cfg.warm, cfg.window = [10, 1000, 10000], 3, 0.7, 2.0
    if os.geteuid() != 0:
        sys.exit("netfilter bench: run as root")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the namespaces go in `finally`
    b = Bench(cfg)
    res = {"machine": bench.machine(), "config": {k: v for k, v in vars(cfg).items()}}
    workdir = os.path.join(bench.BUILD, "bench", "work")
    os.makedirs(workdir, exist_ok=True)
    try:
        b.run(workdir, res)
    finally:
        bench.cleanup()
    res["machine"]["load_after"] = open("/proc/loadavg").read().split()[0]
    with open(cfg.out, "w") as f:
        json.dump(res, f, indent=1, default=str)
    md = report(cfg, res, b.systems)
    with open(os.path.splitext(cfg.out)[0] + ".md", "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
