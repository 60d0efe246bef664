#!/usr/bin/env python3
"""Rule shapes that real firewalls have (issue 13), beside the easy one of bench.py: the
classifier's cost (BPF_PROG_TEST_RUN) with the class cache hit and missed, the drop rate
of floods against iptables-legacy, iptables-nft and the one-instruction floor, and TCP
throughput through a stateful ruleset.

Run through `tools/bench/run shapes [--quick] [--family 6]` (which builds first).
Namespaces are named xbench-* (IPv6: xbench6-*) and removed at the end; nothing else is
touched.

--family 6: the same shapes and floods in IPv6 (2001:db8::/32; /128 for IPv4's /32
sources, /64 for its /24 prefixes, ICMPv6 for ICMP), against ip6tables-legacy,
ip6tables-nft, xdp6tables and the floor; results in results/shapes6.{md,json}.

Shapes, each N rules then what the flood meets:
  wildcard  a third `-s X/32 -j DROP` (blocklist), a third `-s Y/24 -p tcp --dport P -j
            DROP`, a third `-p udp --dport P -j ACCEPT`; then the rule dropping the flood.
            Every rule wildcards a field the flood has: the walk visits every word.
  worst     bench.py's: distinct /32 sources and ports (the bit vectors' easy case).
  random    bench.py's random rules (none matching the flood), then the flood's rule.
  stateful  the enterprise kind: ESTABLISHED,RELATED accepted first, per-source NEW
            accepts, per-port NEW accepts, policy DROP. Floods: UDP and TCP SYN from a
            source the ruleset does not allow.
"""
import argparse
import ipaddress
import json
import os
import signal
import random
import statistics
import struct
import subprocess
import sys
import time

import bench
from bench import FLOOD_DPORT, V4, sh, log, med, paired

# floorgen: the floor's program in generic mode, the mode xdptables attaches in on a veth
# (the kernel hands generic XDP an skb; native mode on a veth costs accepted TCP its TSO,
# see README): what of xdptables' distance to the floor is the mode's.
SYSTEMS = ["floor", "floorgen", "legacy", "nft", "xdptables"]


def header(policy="ACCEPT"):
    return ["*filter", f":INPUT {policy} [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]


def flood_rule(fam=V4):
    return f"-A INPUT -s {fam.gen}/{fam.host} -p udp -m udp --dport {FLOOD_DPORT} -j DROP"


def net_src(i, fam=V4):
    """The i-th source prefix of the wildcard shape: a /24 of 172.16.0.0/12, IPv6 a /64
    of 2001:db8:b::/48."""
    a, b = 16 + (i >> 16) % 16, (i >> 8) & 255
    return f"2001:db8:b:{a:x}{b:02x}::/64" if fam.v == 6 else f"172.{a}.{b}.0/24"


def wildcard(n, fam=V4):
    out = header()
    for i in range(n):
        k = i % 3
        if k == 0:
            out.append(f"-A INPUT -s {bench.block_src(i, fam)}/{fam.host} -j DROP")
        elif k == 1:
            out.append(f"-A INPUT -s {net_src(i, fam)} -p tcp -m tcp "
                       f"--dport {1 + i % 60000} -j DROP")
        else:
            out.append(f"-A INPUT -p udp -m udp --dport {10 + i % 60000} -j ACCEPT")
    return "\n".join(out + [flood_rule(fam), "COMMIT", ""])


def meets_flood(line, fam=V4):
    """Whether a rule of bench.random_rules matches the UDP flood's packet in INPUT (from
    the generator, sport 1000, to the DUT's FLOOD_DPORT)."""
    w = line.split()
    if w[1] != "INPUT":
        return False
    for opt, addr in (("-s", fam.gen), ("-d", fam.dut)):
        if opt in w and ipaddress.ip_address(addr) not in ipaddress.ip_network(w[w.index(opt) + 1], strict=False):
            return False
    if "-p" not in w:
        return True
    if w[w.index("-p") + 1] != "udp":
        return False
    if "--sport" in w and int(w[w.index("--sport") + 1]) != 1000:
        return False
    lo, _, hi = w[w.index("--dport") + 1].partition(":")
    return int(lo) <= FLOOD_DPORT <= int(hi or lo)


def random_shape(n, fam=V4):
    """bench.py's random rules but for those that match the flood's packet: N of them, then
    the flood's rule. The flood meets every rule before its own, in iptables too (an
    earlier random DROP of its source would have iptables drop it within a few rules)."""
    kept, seed = [], 5
    while len(kept) < n:
        for line in bench.random_rules(n, seed=seed, fam=fam).splitlines():
            if not line.startswith("-A ") or len(kept) >= n:
                continue
            if not meets_flood(line, fam):
                kept.append(line)
        seed += 1
    return "\n".join(header() + kept + [flood_rule(fam), "COMMIT", ""])


def stateful(n, fam=V4):
    """pcn-iptables' "enterprise public server" kind: established first, then NEW accepts
    per source and per port, policy DROP. The flood source is in none of them."""
    out = header("DROP")
    out.append("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    out.append("-A INPUT -i lo -j ACCEPT")
    out.append("-A INPUT -p tcp -m tcp --dport 5201 -m conntrack --ctstate NEW -j ACCEPT")  # iperf3
    for i in range(max(0, n - 3)):
        if i % 2 == 0:
            out.append(f"-A INPUT -s {bench.block_src(i, fam)}/{fam.host} -p tcp -m tcp "
                       f"--dport 22 -m conntrack --ctstate NEW -j ACCEPT")
        else:
            proto = "tcp" if i % 4 == 1 else "udp"
            out.append(f"-A INPUT -p {proto} -m {proto} --dport {10 + i % 60000} -m conntrack --ctstate NEW "
                       f"-j ACCEPT")
    return "\n".join(out + ["COMMIT", ""])


SHAPES = {"wildcard": wildcard, "worst": bench.worst_case, "random": random_shape, "stateful": stateful}


def syn_frame(dst_mac, src_mac, src, dst, sport, dport):
    """Ethernet + IP + TCP SYN, checksums right (IPv4: 60 bytes, DF; IPv6: 74 bytes, the
    TCP checksum over IPv6's pseudo-header)."""
    tcp = bytearray(struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 64240, 0, 0))
    tcp[16:18] = struct.pack("!H", bench.l4_csum(src, dst, 6, tcp))
    return bench.ip_frame(dst_mac, src_mac, src, dst, 6, tcp, frag=0x4000)


def floods(shape, macs, fam=V4):
    """The flood frames of a shape per system: {name: {system: frame}}."""
    out = {"udp": {s: bench.frame(*macs[s], fam.gen, fam.dut, 1000, FLOOD_DPORT) for s in SYSTEMS}}
    if shape == "stateful":
        out["syn"] = {s: syn_frame(*macs[s], fam.gen, fam.dut, 40000, FLOOD_DPORT) for s in SYSTEMS}
    return out


def load(system, text, workdir, nocache=False, fam=V4):
    path = bench.write_rules(workdir, f"{system}.rules", text)
    cmd = fam.restore[system]
    if nocache:
        cmd = ["env", "XDPT_NO_CACHE=1"] + cmd
    return bench.timed(cmd, fam.ns(system), path)


def classes_mix(shape, n, dut_mac, gen_mac, count, seed=11, fam=V4):
    """Frames of distinct class tuples (random sources from the blocklists and random
    ports): each a cache miss when first seen."""
    r = random.Random(seed)
    frames = []
    for _ in range(count):
        i = r.randrange(max(1, n))
        if r.random() < 0.5:
            src = bench.block_src(i, fam)
        else:
            a, b = r.randrange(1, 255), r.randrange(1, 255)
            src = f"2001:db8::{a:x}:{b:x}" if fam.v == 6 else f"198.18.{a}.{b}"
        frames.append(bench.frame(dut_mac, gen_mac, src, fam.dut, r.randrange(1024, 65536), r.randrange(1, 65536)))
    return frames


def xdpt_stats(ns):
    """The program's statistics (enum xdpt_stat), summed over CPUs."""
    prog = bench.link_json(ns, "lo")["xdp"]["prog"]["id"]
    for mid in bench.bpftool_json("prog", "show", "id", str(prog)).get("map_ids", []):
        m = bench.bpftool_json("map", "show", "id", str(mid))
        if m.get("name") == "xdpt_stats":
            def num(v):  # a number with BTF, a list of hex bytes without
                return int.from_bytes(bytes(int(b, 16) for b in v), "little") if isinstance(v, list) else int(v)
            return [sum(num(v["value"]) for v in e["values"]) for e in bench.bpftool_json("map", "dump", "id", str(mid))]
    return []


def miss_bound(ns, fam=V4):
    """The words (of 64 rules) a miss reads at most, as `xdptables explain` computes it
    for the ruleset loaded in `ns`, and the words of all rules."""
    out = sh([os.path.join(bench.XDPT_BIN, "xdp6tables" if fam.v == 6 else "xdptables"), "explain"], ns=ns)
    for line in out.splitlines():
        if line.startswith("# XDP's classifier:"):
            w = line.split()
            return {"words": int(w[w.index("most") + 1]), "total_words": int(w[w.index("words") - 1])}
    return None


def part_shapes(cfg, workdir, res, fam=V4):
    bench.ns_create(fam.ns("gen"))
    macs = {s: bench.setup_dut(s, fam) for s in SYSTEMS}
    xns = fam.ns("xdptables")
    for shape in cfg.shapes:
        for n in cfg.ns:
            text = SHAPES[shape](n, fam)
            key = f"{shape}/{n}"
            log(f"== {shape}, N = {n}")
            r = res.setdefault(key, {})
            fl = floods(shape, macs, fam)
            dm, gm = macs["xdptables"]
            # Test-run: the flood frames through the cache (hits after the first run),
            # then with the cache off (the walk every time: what a miss costs).
            tr = {}
            mix = classes_mix(shape, n, dm, gm, cfg.mix, fam=fam)
            # The cache off first (fewer repeats: a walk of 50k wildcard rules takes
            # microseconds), then on: what follows (the mix, the floods) runs with it.
            for nocache in (True, False):
                r["load_s"] = load("xdptables", text, workdir, nocache=nocache, fam=fam)
                repeat = max(1000, cfg.repeat // 20) if nocache else cfg.repeat
                for name, frames in fl.items():
                    runs = [bench.testrun(xns, [frames["xdptables"]], repeat)[0]
                            for _ in range(cfg.runs)]
                    tr[f"{name}{'_miss' if nocache else ''}"] = med([x[1] for x in runs])
                    tr[f"{name}_action"] = runs[0][0]
                if nocache:
                    # What the mix's packets cost as misses (each walked every run):
                    # the mean, and the dearest of them.
                    m = [x[1] for x in bench.testrun(xns, mix, max(100, cfg.repeat // 200))]
                    tr["mix_miss"], tr["mix_miss_max"] = statistics.mean(m), max(m)
                    r["miss_bound"] = miss_bound(xns, fam)
            m = bench.testrun(xns, mix, 1)  # one run each: mostly misses
            tr["mix_first"] = statistics.mean(x[1] for x in m)
            m = bench.testrun(xns, mix, cfg.repeat // 10)
            tr["mix_repeat"] = statistics.mean(x[1] for x in m)
            tr["floor"] = med([bench.testrun(fam.ns("floor"), [fl["udp"]["floor"]], cfg.repeat,
                                             obj=bench.FLOOR_OBJ)[0][1] for _ in range(cfg.runs)])
            # The same frames with the caches flushed before each run, as the kernel's
            # path leaves them in a flood (the floor's figure is the clock's own cost).
            tr["udp_cold"] = med([bench.testrun(xns, [fl["udp"]["xdptables"]], cfg.cold, cold=True)[0][1]
                                  for _ in range(cfg.runs)])
            tr["floor_cold"] = med([bench.testrun(fam.ns("floor"), [fl["udp"]["floor"]], cfg.cold,
                                                  obj=bench.FLOOR_OBJ, cold=True)[0][1] for _ in range(cfg.runs)])
            r["testrun"] = tr
            r["memory"] = bench.xdpt_memory(xns)
            log("   test-run ns: " + ", ".join(f"{k} {v}" for k, v in tr.items()))
            # Drop rate, every system, interleaved runs.
            # Floods at 10k rules; the stateful ruleset at the 5,000 of its target (quick:
            # the largest N).
            if n in cfg.flood_ns if shape != "stateful" else n == cfg.stateful_n:
                for s in ("legacy", "nft"):
                    load(s, text, workdir, fam=fam)
                rates, stack = {}, {}
                for name in fl:
                    confs = {s: bench.write_rules(workdir, f"flood-{s}.cfg", bench.trafgen_conf(fl[name][s]))
                             for s in SYSTEMS}
                    per = {s: [] for s in SYSTEMS}
                    # What of the flood reached xdptables' IP stack (0: all dropped in XDP).
                    rx0, ip0 = bench.rx_packets(xns), bench.ip_in_receives(xns, fam)
                    for _ in range(cfg.flood_runs):
                        for s in SYSTEMS:
                            per[s].append(bench.flood_once(s, confs[s], cfg.warm, cfg.window, fam))
                    rx = bench.rx_packets(xns) - rx0
                    stack[name] = round((bench.ip_in_receives(xns, fam) - ip0) / rx, 4) if rx else None
                    log(f"   {name} flood: the IP stack of xdptables saw {stack[name]} of what it received")
                    rates[name] = {s: med(v) for s, v in per.items()}
                    rates[name]["xdpt_over_floor"] = paired(per["xdptables"], per["floor"])
                    rates[name]["xdpt_over_floorgen"] = paired(per["xdptables"], per["floorgen"])
                    rates[name]["xdpt_over_legacy"] = paired(per["xdptables"], per["legacy"])
                    rates[name]["xdpt_over_nft"] = paired(per["xdptables"], per["nft"])
                    log(f"   {name} flood kpps: " + ", ".join(f"{s} {per[s][-1] / 1e3:.0f}" for s in SYSTEMS) +
                        f"; xdptables/floor {rates[name]['xdpt_over_floor']:.2f}, "
                        f"/floor in generic mode {rates[name]['xdpt_over_floorgen']:.2f}, "
                        f"/legacy {rates[name]['xdpt_over_legacy']:.1f}")
                r["droprate"] = rates
                r["stats"] = xdpt_stats(xns)
                if fam.v == 6:  # (IPv4's files keep their format)
                    r["stack_share"] = stack
    for s in SYSTEMS:
        bench.ns_delete(fam.ns(s))
    bench.ns_delete(fam.ns("gen"))


# The addresses of iperf's client and server, and their prefix length.
IPERF_ADDR = {4: ("198.18.5.1", "198.18.5.2", 24), 6: ("2001:db8:5::1", "2001:db8:5::2", 64)}


def iperf(cfg, workdir, res, fam=V4):
    """TCP throughput from a client namespace to a server behind the stateful ruleset,
    against the same host with no firewall, iptables-legacy and xdptables."""
    out = {}
    n = cfg.iperf_n
    text = stateful(n, fam)
    ca, sa, plen = IPERF_ADDR[fam.v]
    nodad = ["nodad"] if fam.v == 6 else []
    for system in ("none", "legacy", "nft", "xdptables"):
        srv, cli = f"{fam.prefix}-ips-{system}"[:15], f"{fam.prefix}-ipc"
        bench.ns_create(srv, ipv6=fam.v == 6)
        bench.ns_create(cli, ipv6=fam.v == 6)
        sh(["ip", "link", "add", "xbi", "netns", cli, "type", "veth", "peer", "name", "xbs", "netns", srv])
        sh(["ip", "addr", "add", f"{ca}/{plen}", "dev", "xbi"] + nodad, ns=cli)
        sh(["ip", "addr", "add", f"{sa}/{plen}", "dev", "xbs"] + nodad, ns=srv)
        sh(["ip", "link", "set", "xbi", "up"], ns=cli)
        sh(["ip", "link", "set", "xbs", "up"], ns=srv)
        if fam.v == 6:
            # Neighbour discovery is ICMPv6, which the ruleset's policy DROP would drop on
            # INPUT (ARP never meets it): static neighbours on both sides.
            cmac, smac = bench.link_json(cli, "xbi")["address"], bench.link_json(srv, "xbs")["address"]
            sh(["ip", "neigh", "replace", sa, "lladdr", smac, "dev", "xbi", "nud", "permanent"], ns=cli)
            sh(["ip", "neigh", "replace", ca, "lladdr", cmac, "dev", "xbs", "nud", "permanent"], ns=srv)
        if system != "none":
            path = bench.write_rules(workdir, "iperf.rules", text)
            bench.timed(fam.restore[system], srv, path)
        server = subprocess.Popen(["timeout", "60", "ip", "netns", "exec", srv, "iperf3", "-s", "-1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        r = json.loads(sh(["timeout", "40", "iperf3", "-c", sa, "-t", str(cfg.iperf_s), "-J"], ns=cli))
        server.wait(timeout=30)
        out[system] = r["end"]["sum_received"]["bits_per_second"]
        log(f"   iperf3 through {system}: {out[system] / 1e9:.2f} Gbit/s")
        bench.ns_delete(cli)
        bench.ns_delete(srv)
    for s in ("legacy", "nft", "xdptables"):
        out[f"{s}_over_none"] = out[s] / out["none"]
    res[f"iperf/stateful/{n}"] = out


def report(res, fam=V4):
    """The markdown tables of a run."""
    L = ([f"IPv6: {fam.label['legacy']}, {fam.label['nft']}, {fam.label['xdptables']} and the floor; addresses in "
          "2001:db8::/32, floods of IPv6 frames (UDP 62 bytes, TCP SYN 74 bytes, checksums right).", ""]
         if fam.v == 6 else [])
    L += [f"Machine: {res['machine']}", "",
         "Test-run, ns per packet (median): the flood frame through the class cache (hit) and with the cache off "
         "(the walk: what a miss costs); a mix of distinct class tuples (random sources from the blocklists and "
         "elsewhere, random ports) with the cache off (mean, dearest), its first run through the cache (one run "
         "each: mostly the test-run call's own cost) and repeated; the most words a miss can read, as `explain` "
         "computes it. *cold*: the hit and the floor, each run alone with 256 KiB written before it (the caches "
         "as a flood's kernel path leaves them; testrun.c --cold), the clock's own cost included.", "",
         "| shape | N | floor | udp hit | udp miss | syn hit | syn miss | mix miss | mix miss max | mix first | mix repeated | hit / hit@10 | floor, cold | udp hit, cold | miss bound (words) | memory MiB |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = {}
    for key, r in res.items():
        if "/" not in key or "testrun" not in r:
            continue
        shape, n = key.split("/")
        t = r["testrun"]
        base.setdefault(shape, t["udp"])
        f = lambda k: f"{t[k]:.0f}" if k in t else "-"
        mb = r.get("miss_bound")
        bound = f"{mb['words']} of {mb['total_words']}" if mb else "-"
        L.append(f"| {shape} | {n} | {f('floor')} | {f('udp')} | {f('udp_miss')} | {f('syn')} | {f('syn_miss')} | "
                 f"{f('mix_miss')} | {f('mix_miss_max')} | {f('mix_first')} | {f('mix_repeat')} | "
                 f"{t['udp'] / base[shape]:.2f} | {f('floor_cold')} | {f('udp_cold')} | {bound} | "
                 f"{r['memory'] / 2**20:.1f} |")
    L += ["", "Drop rate, kpps (median of the runs; ratios are medians of paired runs):", "",
          "| shape | N | flood | floor | floor, generic | legacy | nft | xdptables | /floor | /floor, generic | /legacy | /nft |",
          "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key, r in res.items():
        for name, d in r.get("droprate", {}).items() if isinstance(r, dict) else []:
            shape, n = key.split("/")
            fg = lambda k: f"{d[k] / 1e3:.0f}" if k in d else "-"
            L.append(f"| {shape} | {n} | {name} | {d['floor'] / 1e3:.0f} | {fg('floorgen')} | {d['legacy'] / 1e3:.0f} | "
                     f"{d['nft'] / 1e3:.0f} | {d['xdptables'] / 1e3:.0f} | {d['xdpt_over_floor']:.2f} | "
                     f"{d['xdpt_over_floorgen']:.2f} | {d['xdpt_over_legacy']:.1f} | {d['xdpt_over_nft']:.1f} |"
                     if "xdpt_over_floorgen" in d else
                     f"| {shape} | {n} | {name} | {d['floor'] / 1e3:.0f} | - | {d['legacy'] / 1e3:.0f} | {d['nft'] / 1e3:.0f} | "
                     f"{d['xdptables'] / 1e3:.0f} | {d['xdpt_over_floor']:.2f} | - | {d['xdpt_over_legacy']:.1f} | "
                     f"{d['xdpt_over_nft']:.1f} |")
    shares = {f"{k.split('/')[0]} {name}": v for k, r in res.items() if isinstance(r, dict)
              for name, v in r.get("stack_share", {}).items()}
    if shares:
        L += ["", "Check: share of the flood that reached the IP stack of xdptables' DUT (0: every packet dropped "
              "in XDP): " + ", ".join(f"{k} {v}" for k, v in shares.items())]
    for key, r in res.items():
        if key.startswith("iperf/"):
            L += ["", f"iperf3 through the {key.split('/')[1]} ruleset of {key.split('/')[2]} rules, Gbit/s: " +
                  ", ".join(f"{s} {r[s] / 1e9:.2f}" for s in ("none", "legacy", "nft", "xdptables")) +
                  f"; xdptables/none {r['xdptables_over_none']:.2f}, legacy/none {r['legacy_over_none']:.2f}"]
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--shapes", default="wildcard,worst,random,stateful")
    ap.add_argument("--family", type=int, choices=[4, 6], default=4,
                    help="IPv4 (default) or IPv6 rules and floods")
    ap.add_argument("--out", help="default results/shapes.json, IPv6 results/shapes6.json")
    ap.add_argument("--sizes", help="rule counts, comma-separated (default 10,1000,5000,10000,50000; quick 10,1000)")
    ap.add_argument("--no-floods", action="store_true", help="test-run costs only: no drop rates, no iperf3")
    ap.add_argument("--flood-runs", type=int, dest="rounds", help="rounds of floods, each system once a round (default 3; quick 1)")
    cfg = ap.parse_args()
    fam = bench.FAMILIES[cfg.family]
    cfg.out = cfg.out or os.path.join(bench.HERE, "results", "shapes6.json" if fam.v == 6 else "shapes.json")
    cfg.shapes = cfg.shapes.split(",")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the namespaces go in `finally`
    if cfg.quick:
        cfg.ns, cfg.flood_ns, cfg.runs, cfg.flood_runs, cfg.repeat, cfg.mix = [10, 1000], [1000], 1, 1, 100000, 64
        cfg.cold = 1000
        cfg.warm, cfg.window, cfg.iperf_n, cfg.iperf_s = 0.5, 1.0, 1000, 3
        cfg.stateful_n = 1000
    else:
        cfg.ns, cfg.flood_ns, cfg.runs, cfg.flood_runs, cfg.repeat, cfg.mix = \
            [10, 1000, 5000, 10000, 50000], [10000], 3, 3, 200000, 128
        cfg.cold = 3000
        cfg.warm, cfg.window, cfg.iperf_n, cfg.iperf_s = 1.0, 2.0, 5000, 8
        cfg.stateful_n = 5000
    if cfg.sizes:
        cfg.ns = [int(x) for x in cfg.sizes.split(",")]
    if cfg.rounds:
        cfg.flood_runs = cfg.rounds
    if cfg.no_floods:
        cfg.flood_ns, cfg.stateful_n = [], None
    if os.geteuid() != 0:
        sys.exit("shapes: run as root")
    if open("/proc/sys/kernel/bpf_stats_enabled").read().strip() != "0":
        sys.exit("shapes: kernel.bpf_stats_enabled is not 0; refusing to measure")
    res = {"machine": bench.machine(), "config": {k: v for k, v in vars(cfg).items()}}
    workdir = os.path.join(bench.BUILD, "bench", "work")
    os.makedirs(workdir, exist_ok=True)
    try:
        part_shapes(cfg, workdir, res, fam)
        if not cfg.no_floods:
            iperf(cfg, workdir, res, fam)
    finally:
        bench.cleanup()
    res["machine"]["load_after"] = open("/proc/loadavg").read().split()[0]
    with open(cfg.out, "w") as f:
        json.dump(res, f, indent=1, default=str)
    md = report(res, fam)
    with open(os.path.splitext(cfg.out)[0] + ".md", "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
