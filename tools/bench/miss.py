#!/usr/bin/env python3
"""What a class cache miss costs on one ruleset: the flood frame of tools/bench/shapes.py
(UDP 198.18.0.1:1000 -> 198.18.0.2:9) and 64 random frames (sources in 198.18.0.0/15,
random ports) through xdptables with the cache off (XDPT_NO_CACHE=1), BPF_PROG_TEST_RUN,
`repeat` runs each; prints the flood frame's ns and the random frames' mean and dearest.

  python3 tools/bench/miss.py BIN_DIR RULES_FILE [--repeat N]

BIN_DIR holds xdptables-restore; the testrun tool is build-bench's (tools/bench/run builds
it). Runs in a namespace of its own (xbench-miss), removed at the end. As root."""
import argparse
import random
import statistics
import subprocess
import sys

import bench

NS = "xbench-miss"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bindir")
    ap.add_argument("rules")
    ap.add_argument("--repeat", type=int, default=20000)
    cfg = ap.parse_args()
    run = lambda *a, **k: subprocess.run(*a, check=True, **k)
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL)
    run(["ip", "netns", "add", NS])
    try:
        run(["ip", "-n", NS, "link", "set", "lo", "up"])
        run(["ip", "-n", NS, "link", "add", bench.DUT_IF, "type", "veth", "peer", "name", "xbmp"])
        run(["ip", "-n", NS, "addr", "add", bench.DUT_ADDR + "/24", "dev", bench.DUT_IF])
        for dev in (bench.DUT_IF, "xbmp"):
            run(["ip", "-n", NS, "link", "set", dev, "up"])
        mac = run(["ip", "netns", "exec", NS, "cat", f"/sys/class/net/{bench.DUT_IF}/address"],
                  capture_output=True, text=True).stdout.strip()
        with open(cfg.rules) as f:
            run(["ip", "netns", "exec", NS, "env", "XDPT_NO_CACHE=1", cfg.bindir + "/xdptables-restore"], stdin=f)
        gen, r = "02:00:00:00:00:01", random.Random(1)
        frames = [bench.frame(mac, gen, bench.GEN_ADDR, bench.DUT_ADDR, 1000, bench.FLOOD_DPORT)]
        for _ in range(64):
            a = (198 << 24 | 18 << 16) + r.randrange(3, 1 << 17)
            src = f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"
            frames.append(bench.frame(mac, gen, src, bench.DUT_ADDR, r.randrange(1024, 65536), r.randrange(1, 65536)))
        ns = [t for _, t in bench.testrun(NS, frames, cfg.repeat)]
        print(f"{cfg.rules}: flood frame {ns[0]} ns; random frames mean {statistics.mean(ns[1:]):.0f}, "
              f"dearest {max(ns[1:])}")
    finally:
        subprocess.run(["ip", "netns", "del", NS])


if __name__ == "__main__":
    sys.exit(main())
