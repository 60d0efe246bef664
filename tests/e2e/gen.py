#!/usr/bin/env python3
"""Generator, sender and comparator of the end-to-end differential test (tests/e2e).

One file holds the whole test vocabulary, so the ruleset, the packets and the topology
always agree on names, addresses and MAC addresses:

  gen.py topo                       shell assignments describing the topology (eval them)
  gen.py rules SEED N TABLE [--no-forward]
                                    a random iptables-save ruleset of N rules
  gen.py packets SEED COUNT [--no-forward]
                                    a random frame list, one frame a line: HEX # what
  gen.py commands SEED N TABLE STEPS NFRAMES [--no-forward]
                                    a random sequence of STEPS single commands over the
                                    ruleset of `rules SEED N TABLE`, with sends of slices
                                    of a frame list of NFRAMES frames between them
  gen.py send IFACE FILE            send every frame of FILE on IFACE (AF_PACKET), paced
  gen.py compare REF DUT NRULES [--ignore-output]
                                    compare two `*-save -c` outputs counter by counter

Everything is a pure function of its arguments (seeded random.Random), so the same
command prints the same bytes on every run. Python 3 standard library only.
"""

import os
import random
import re
import socket
import struct
import sys
import time

# ---------------------------------------------------------------------------------------
# Topology. gen (no IP address: it only injects frames) --veth-- dut --veth-- behind.
# Every namespace of a run has these names; runs use different namespace names.

GEN_IF = "g0"            # gen side of the gen<->dut veth
DUT_IN = "vin0"          # dut side of the gen<->dut veth; every test frame arrives here
DUT_OUT = "vout0"        # dut side of the dut<->behind veth (forwarded packets leave here)
DUT_LOC = "lo"           # holds a second local /24 (this kernel has no dummy devices)
BEH_IF = "b0"            # behind side of the dut<->behind veth
DUT_IN_MAC = "02:e2:e0:00:00:02"
DUT_OUT_MAC = "02:e2:e0:00:01:01"
BEH_MAC = "02:e2:e0:00:01:02"
# Source MACs of generated frames; the first is also gen's veth address.
GEN_MACS = ["02:e2:e0:00:00:01", "02:e2:e0:10:00:01", "02:e2:e0:10:00:02",
            "06:00:5e:aa:bb:cc", "0a:11:22:33:44:55", "fe:ff:ff:ff:ff:fe"]
FOREIGN_MAC = "02:e2:e0:99:99:99"   # unicast, not the dut's: dropped as PACKET_OTHERHOST

DUT_ADDRS = [("198.18.1.2/24", DUT_IN), ("198.18.1.3/24", DUT_IN),
             ("198.18.2.1/24", DUT_LOC), ("198.18.3.1/24", DUT_OUT)]
NEXTHOP = "198.18.3.2"        # permanent neighbour = BEH_MAC; behind has no address at all,
BEHIND_NET = "198.19.0.0/16"  # so forwarded packets die there silently

LOCAL_DSTS = [a.split("/")[0] for a, _ in DUT_ADDRS]
KERNEL_CLASSES = os.environ.get("E2E_KERNEL_CLASSES") == "1"
FWD_DSTS = ["198.19.0.1", "198.19.0.2", "198.19.0.9", "198.19.0.130", "198.19.5.5",
            "198.19.5.77", "198.19.200.1"]
# Sources: on-link, off-link, in the forwarded range; never a dut address, never a subnet
# broadcast, so the kernel's martian checks never decide.
SRCS = (["198.18.1.%d" % i for i in (1, 10, 11, 12, 13, 20, 21, 100, 129, 200, 254)]
        + ["198.18.0.5", "198.18.0.77", "198.18.9.9", "198.18.128.1", "198.18.255.254",
           "198.18.200.17", "198.19.0.50", "198.19.100.1", "198.19.100.2", "198.19.255.1"])
PORTS = [0, 1, 7, 22, 53, 80, 123, 443, 1023, 1024, 3128, 8080, 33434, 65534, 65535]
TTLS = [1, 2, 63, 64, 65, 127, 128, 254, 255]
OTHER_PROTOS = [0, 2, 4, 41, 47, 50, 51, 89, 132, 136, 253, 255]

TCP_FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG"]   # all iptables 1.8.9 knows
ICMP_NAMES = {"echo-reply": (0, None), "destination-unreachable": (3, None),
              "network-unreachable": (3, 0), "host-unreachable": (3, 1),
              "protocol-unreachable": (3, 2), "port-unreachable": (3, 3),
              "fragmentation-needed": (3, 4), "source-quench": (4, 0),
              "redirect": (5, None), "echo-request": (8, None),
              "time-exceeded": (11, None), "ttl-zero-during-transit": (11, 0),
              "parameter-problem": (12, None), "timestamp-request": (13, None),
              "timestamp-reply": (14, None)}
ICMP_TYPES = [(0, 0), (3, 0), (3, 1), (3, 3), (3, 4), (3, 13), (4, 0), (5, 1), (8, 0),
              (8, 5), (11, 0), (11, 1), (12, 0), (13, 0), (14, 0), (42, 0)]
# ICMPv6: errors, echo, MLD, the neighbour discovery messages (random bodies: the kernel
# drops them as invalid), unknown types of both classes.
ICMP6_TYPES = [(1, 0), (1, 1), (1, 3), (1, 4), (2, 0), (3, 0), (3, 1), (4, 0), (4, 1),
               (4, 2), (128, 0), (128, 0), (128, 7), (129, 0), (130, 0), (133, 0),
               (134, 0), (135, 0), (136, 0), (137, 0), (100, 0), (200, 0)]


def topo():
    """Shell assignments for e2e.sh."""
    out = {"GEN_IF": GEN_IF, "DUT_IN": DUT_IN, "DUT_OUT": DUT_OUT, "DUT_LOC": DUT_LOC,
           "BEH_IF": BEH_IF, "DUT_IN_MAC": DUT_IN_MAC, "DUT_OUT_MAC": DUT_OUT_MAC,
           "BEH_MAC": BEH_MAC, "GEN_MAC": GEN_MACS[0], "NEXTHOP": NEXTHOP,
           "BEHIND_NET": BEHIND_NET,
           "DUT_ADDRS": " ".join("%s,%s" % (a, d) for a, d in DUT_ADDRS),
           # The dut's replies (RST, ICMP errors) to on-link sources must not wait for ARP:
           # a failed resolution later sends ICMP host-unreachable to the dut itself, over
           # lo, which INPUT and PREROUTING would count at a time of its own.
           "GEN_NEIGHS": " ".join(a for a in SRCS if a.startswith("198.18.1."))}
    for k, v in out.items():
        print("%s='%s'" % (k, v))


# ---------------------------------------------------------------------------------------
# Rules.

def ip2int(a):
    return struct.unpack("!I", socket.inet_aton(a))[0]


def int2ip(n):
    return socket.inet_ntoa(struct.pack("!I", n))


def neg(rng, p=0.2):
    return "! " if rng.random() < p else ""


def prefix(rng, addr):
    plen = rng.choice([0, 8, 15, 16, 20, 23, 24, 24, 25, 28, 30, 31, 32, 32, 32])
    mask = (0xffffffff << (32 - plen)) & 0xffffffff
    return "%s/%d" % (int2ip(ip2int(addr) & mask), plen)


def port_spec(rng):
    r = rng.random()
    if r < 0.55:
        return str(rng.choice(PORTS) if rng.random() < 0.85 else rng.randint(0, 65535))
    a, b = sorted(rng.sample(PORTS, 2))
    if r < 0.62:
        return "%d:" % a    # iptables prints a:65535
    if r < 0.68:
        return ":%d" % b    # iptables prints 0:b
    return "%d:%d" % (a, b)


def multiport_list(rng):
    slots, items = rng.randint(1, 15), []
    while slots > 0:
        if slots >= 2 and rng.random() < 0.3:
            a, b = sorted(rng.sample(PORTS, 2))
            items.append("%d:%d" % (a, b))
            slots -= 2
        else:
            items.append(str(rng.choice(PORTS)))
            slots -= 1
        if rng.random() < 0.35:
            break
    return ",".join(items)


def flag_list(rng, pool):
    if not pool:
        return "NONE"
    return ",".join(f for f in TCP_FLAGS if f in pool)


def tcp_match(rng):
    opts = []
    if rng.random() < 0.45:
        opts.append("%s--sport %s" % (neg(rng), port_spec(rng)))
    if rng.random() < 0.55:
        opts.append("%s--dport %s" % (neg(rng), port_spec(rng)))
    r = rng.random()
    if r < 0.15:
        opts.append("%s--syn" % neg(rng))
    elif r < 0.35:
        mask = [f for f in TCP_FLAGS if rng.random() < 0.45] or ["SYN"]
        comp = [f for f in mask if rng.random() < 0.4]
        m = "ALL" if len(mask) == 6 and rng.random() < 0.5 else flag_list(rng, mask)
        opts.append("%s--tcp-flags %s %s" % (neg(rng), m, flag_list(rng, comp)))
    if not opts:
        opts.append("--dport %s" % port_spec(rng))
    return "-m tcp " + " ".join(opts)


def udp_match(rng):
    opts = []
    if rng.random() < 0.5:
        opts.append("%s--sport %s" % (neg(rng), port_spec(rng)))
    if rng.random() < 0.6 or not opts:
        opts.append("%s--dport %s" % (neg(rng), port_spec(rng)))
    return "-m udp " + " ".join(opts)


def icmp_match(rng):
    r = rng.random()
    if r < 0.45:
        t = rng.choice(sorted(ICMP_NAMES))
    elif r < 0.55:
        t = "any"
    elif r < 0.8:
        t = "%d/%d" % rng.choice(ICMP_TYPES)
    else:
        t = str(rng.choice(ICMP_TYPES)[0])
    return "-m icmp %s--icmp-type %s" % (neg(rng), t)


def multiport_match(rng):
    kind = rng.choice(["--sports", "--dports", "--dports", "--ports"])
    return "-m multiport %s%s %s" % (neg(rng), kind, multiport_list(rng))


def generic_match(rng, idx):
    r = rng.random()
    if r < 0.22:
        pool = SRCS if rng.random() < 0.6 else LOCAL_DSTS + FWD_DSTS
        a, b = sorted(rng.sample(pool, 2), key=ip2int)
        kind = "--src-range" if pool is SRCS else "--dst-range"
        return "-m iprange %s%s %s-%s" % (neg(rng), kind, a, b)
    if r < 0.42:
        if rng.random() < 0.4:
            spec = str(rng.choice([20, 28, 40, 48, 60, 64, 100, 576, 1500]))
        else:
            a, b = sorted([rng.randint(20, 1500), rng.randint(20, 1500)])
            spec = "%d:%d" % (a, b)
        return "-m length %s--length %s" % (neg(rng), spec)
    if r < 0.62:
        kind = rng.choice(["eq", "eq", "lt", "gt"])
        v = rng.choice(TTLS) if rng.random() < 0.85 else rng.randint(0, 255)
        return "-m ttl %s--ttl-%s %d" % (neg(rng) if kind == "eq" else "", kind, v)
    if r < 0.78:
        return mac_match(rng)
    if r < 0.86:
        return state_match(rng)
    return comment_match(rng, idx)


def mac_match(rng):
    return "-m mac %s--mac-source %s" % (neg(rng), rng.choice(GEN_MACS).upper())


def state_match(rng):
    """Judged by netfilter (conntrack sees the same frames in the same order on both sides)."""
    states = ",".join(rng.sample(["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"],
                                 rng.randint(1, 2)))
    if rng.random() < 0.5:
        return "-m conntrack %s--ctstate %s" % (neg(rng), states)
    return "-m state %s--state %s" % (neg(rng), states)


def comment_match(rng, idx):
    text = rng.choice(["r%d" % idx, '"rule %d"' % idx, "hit-me", '"a b c"'])
    return "-m comment --comment %s" % text


IFACES = [DUT_IN, DUT_IN, DUT_IN, "vin+", "v+", DUT_OUT, "lo", "eth0", "+"]


def rule_body(rng, idx, output=False):
    parts, proto = base_part(rng, output, prefix, SRCS, LOCAL_DSTS + FWD_DSTS, "icmp",
                             OTHER_PROTOS[1:], ["tcp", "udp", "icmp", "47"])
    if rng.random() < 0.08:
        parts.append(rng.choice(["-f", "! -f"]))
    add_matches(rng, idx, parts, proto, output, "icmp", icmp_match, generic_match)
    return " ".join(parts)


def base_part(rng, output, prefix_of, srcs, dsts, icmp, others, negated):
    """A rule's -s, -d, -i and -p, as [part] and the protocol its matches may name: addresses
    of srcs and dsts with prefix_of(rng, addr), icmp the name of ICMP's protocol, others the
    numbers of other protocols, negated the protocols of ! -p."""
    parts = []
    if rng.random() < 0.3:
        parts.append("%s-s %s" % (neg(rng, 0.15), prefix_of(rng, rng.choice(srcs))))
    if rng.random() < 0.3:
        parts.append("%s-d %s" % (neg(rng, 0.15), prefix_of(rng, rng.choice(dsts))))
    if rng.random() < 0.2 and not output:
        parts.append("%s-i %s" % (neg(rng, 0.25), rng.choice(IFACES)))
    r, proto = rng.random(), None
    if r < 0.22:
        proto = "tcp"
    elif r < 0.38:
        proto = "udp"
    elif r < 0.48:
        proto = icmp
    elif r < 0.52:
        parts.append("-p %d" % rng.choice(others))
    elif r < 0.54:
        parts.append("-p all")
    elif r < 0.58:
        parts.append("! -p %s" % rng.choice(negated))
    if proto:
        parts.append("-p " + proto)
    return parts, proto


def add_matches(rng, idx, parts, proto, output, icmp_proto, icmp_fn, generic):
    """Up to three matches, of the rule's protocol (icmp_fn for icmp_proto, if any) or
    generic(rng, idx), appended to parts."""
    nmatch, modules = rng.choice([0, 0, 1, 1, 1, 1, 2, 3]), set()
    for _ in range(nmatch):
        if proto == "tcp" and rng.random() < 0.6:
            m = tcp_match(rng) if rng.random() < 0.7 else multiport_match(rng)
        elif proto == "udp" and rng.random() < 0.6:
            m = udp_match(rng) if rng.random() < 0.7 else multiport_match(rng)
        elif proto == icmp_proto and icmp_fn and rng.random() < 0.6:
            m = icmp_fn(rng)
        else:
            m = generic(rng, idx)
        if output and m.startswith("-m mac"):
            continue  # -m mac is not valid in OUTPUT
        if m.split()[1] not in modules:   # one of each module: two rarely match at all
            modules.add(m.split()[1])
            parts.append(m)


def conditions(body):
    """How many parts of a rule body narrow what it matches (comments do not)."""
    return len(re.findall(r"(?:^| )(?:-[sdipf]|-m (?!comment))", body))


REJECTS = ["icmp-port-unreachable", "icmp-host-prohibited", "icmp-net-unreachable"]


def rules(seed, n, table, forward, body_of=rule_body, rejects=REJECTS):
    """The random ruleset; body_of(rng, idx, output) draws a rule's matches and rejects
    are the --reject-with types of the family (empty: no REJECT)."""
    print("\n".join(ruleset(seed, n, table, forward, body_of, rejects)))


def ruleset(seed, n, table, forward, body_of=rule_body, rejects=REJECTS):
    """rules()'s ruleset, as a list of iptables-save lines."""
    rng = random.Random("%s:%d:%s:rules" % (seed, n, table))
    # OUTPUT sees the dut's own replies (ICMP errors, RSTs, REJECT's answers), which only
    # netfilter judges.
    if table == "filter":
        builtins = ["INPUT", "FORWARD", "OUTPUT"]
        used = ["INPUT"] + (["FORWARD"] if forward else []) + ["OUTPUT"]
    else:
        builtins = ["PREROUTING", "OUTPUT"]
        used = ["PREROUTING", "OUTPUT"]
    users = ["u%d" % i for i in range(0 if n < 3 else min(4, 1 + n // 40))]
    chains = {c: [] for c in builtins + users}
    p_term = min(0.35, 6.0 / max(n, 1))
    for idx in range(n):
        if users and rng.random() < 0.3:
            chain = rng.choice(users)
        elif rng.random() < 0.12:
            chain = used[-1]  # OUTPUT
        else:
            chain = used[0] if len(used) == 2 or rng.random() < 0.6 else used[1]
        # OUTPUT calls no user chain (they may hold -i and -m mac, invalid there).
        callees = [] if chain == "OUTPUT" else [u for u in users if chain not in users or u > chain]
        r, target = rng.random(), ""
        if r < p_term:
            target = rng.choice(["ACCEPT", "DROP"])
        elif r < p_term + 0.08:
            target = "RETURN"
        elif r < p_term + 0.2 and callees:
            target = "%s %s" % ("-g" if rng.random() < 0.3 else "-j", rng.choice(callees))
        # A verdict that ends the chain gets a narrow rule, so that the traffic goes on
        # to the rules after it.
        need = 2 if target in ("ACCEPT", "DROP", "RETURN") else 1 if "-g" in target else 0
        for _ in range(30):
            body = body_of(rng, idx, chain == "OUTPUT")
            if conditions(body) >= need:
                break
        # REJECT: filter only (valid in INPUT, FORWARD and OUTPUT alike).
        if table == "filter" and target == "DROP" and rng.random() < 0.4 and rejects:
            tcp_only = re.search(r"(?:^| )-p tcp", body) and not re.search(r"! -p tcp", body)
            target = "REJECT --reject-with " + rng.choice(
                rejects + (["tcp-reset"] if tcp_only else []))
        if target and not target.startswith("-"):
            target = "-j " + target
        chains[chain].append([body, target])
    # Every user chain gets called from somewhere that can reach it (no loops: u_i calls
    # only u_j with j > i).
    for u in users:
        if any(t.endswith(" " + u) for rs in chains.values() for _, t in rs):
            continue
        spots = [r for c in [c for c in used if c != "OUTPUT"] + [x for x in users if x < u] for r in chains[c]
                 if not re.search(r" u\d$", r[1])]
        if spots:
            rng.choice(spots)[1] = "-j " + u
    out = ["*" + table]
    for c in builtins:
        pol = "ACCEPT" if c == "OUTPUT" else rng.choice(["ACCEPT", "ACCEPT", "DROP"])
        out.append(":%s %s [0:0]" % (c, pol))
    for u in users:
        out.append(":%s - [0:0]" % u)
    for c in builtins + users:
        for body, target in chains[c]:
            out.append(" ".join(x for x in ["-A", c, body, target] if x))
    out.append("COMMIT")
    return out


# ---------------------------------------------------------------------------------------
# Command sequences (e2e.sh --commands): single iptables commands over a starting ruleset.

TARGET_RE = re.compile(r"(?:^| )-([jg]) (\S+)(?: --reject-with \S+)?$")


class Model:
    """What a table holds after each command, as far as the generator needs it to draw
    mostly valid commands and to say which ones iptables must refuse: the builtin chains,
    the user chains in creation order, each chain's rules as (body, target) texts."""

    def __init__(self, lines):
        self.table, self.builtins, self.users, self.rules = None, [], [], {}
        for line in lines:
            if line.startswith("*"):
                self.table = line[1:]
            elif line.startswith(":"):
                name, pol = line[1:].split()[:2]
                (self.users if pol == "-" else self.builtins).append(name)
                self.rules[name] = []
            elif line.startswith("-A "):
                chain, rest = line[3:].split(" ", 1) if " " in line[3:] else (line[3:], "")
                m = TARGET_RE.search(rest)
                body, target = (rest[:m.start()].strip(), rest[m.start():].strip()) if m \
                    else (rest, "")
                self.rules[chain].append((body, target))

    @staticmethod
    def text(rule):
        return " ".join(x for x in rule if x)

    def callees(self, chain, rules=None):
        out = []
        for _, t in (rules if rules is not None else self.rules[chain]):
            m = TARGET_RE.search(t)
            if m and m.group(2) in self.users:
                out.append(m.group(2))
        return out

    def acyclic_with(self, chain, new_rules):
        """Would the table have no loop with chain's rules new_rules? Only the chains
        reachable from a builtin one count: the kernel looks for loops from the hooks,
        so a loop of chains nothing calls is taken (until a rule calls it)."""
        state = {}

        def loops(c):
            state[c] = 1
            for u in self.callees(c, new_rules if c == chain else None):
                if state.get(u) == 1 or (u not in state and loops(u)):
                    return True
            state[c] = 2
            return False
        return not any(loops(b) for b in self.builtins if b not in state)

    def refs(self, chain):
        return sum(1 for c in self.rules for u in self.callees(c) if u == chain)


def commands(seed, n, table, forward, steps, nframes):
    """A random sequence of single commands over rules(seed, n, table)'s ruleset, one a
    line: "ok<TAB>ARGS" or "err<TAB>ARGS" (ARGS: shell words; err: what iptables must
    refuse, as far as the model knows) and "send<TAB>FIRST COUNT" (send frames FIRST+1 ..
    FIRST+COUNT of the frame list of nframes frames, then compare every counter)."""
    # steps is not in the seed: a shorter run is the prefix of a longer one.
    rng = random.Random("%s:%d:%s:commands" % (seed, n, table))
    st = Model(ruleset(seed, n, table, forward))
    used = [c for c in st.builtins if forward or c != "FORWARD"]
    out, cursor, nchains = [], 0, 0
    next_send = rng.randint(3, 8)

    def emit(ok, *words):
        out.append("%s\t-t %s %s" % ("ok" if ok else "err", table, " ".join(words)))

    def any_chain(users_too=True):
        cs = used + (st.users if users_too else [])
        return rng.choice(cs)

    def new_rule(chain, step):
        """A rule for chain, and whether iptables takes its target (an unknown chain:
        no; loops are the caller's to check)."""
        output = chain == "OUTPUT"
        body = rule_body(rng, step, output)
        r, target, ok = rng.random(), "", True
        calls = [] if output else [u for u in st.users if u != chain]
        if r < 0.25:
            target = rng.choice(["ACCEPT", "DROP"])
            if target == "DROP" and table == "filter" and rng.random() < 0.4:
                tcp_only = re.search(r"(?:^| )-p tcp", body) and not re.search(r"! -p tcp", body)
                target = "REJECT --reject-with " + rng.choice(
                    REJECTS + (["tcp-reset"] if tcp_only else []))
            target = "-j " + target
        elif r < 0.32:
            target = "-j RETURN"
        elif r < 0.55 and calls:
            target = "%s %s" % ("-g" if rng.random() < 0.3 else "-j", rng.choice(calls))
        elif r < 0.57 and not output:
            target, ok = "-j nochain", False
        return (body, target), ok

    for step in range(1, steps + 1):
        total = sum(len(r) for r in st.rules.values())
        w = {"A": 16, "I": 12, "Dn": 8 + total // 10, "Ds": 6 + total // 15, "R": 10,
             "Z": 7, "N": 4 if len(st.users) < 8 else 0, "E": 3, "X": 4, "P": 4, "F": 3}
        op = rng.choices(list(w), list(w.values()))[0]
        if op in ("A", "I", "R"):
            chain = any_chain()
            rs = st.rules[chain]
            rule, ok = new_rule(chain, step)
            text = Model.text(rule)
            if op == "A":
                ok = ok and st.acyclic_with(chain, rs + [rule])
                emit(ok, "-A", chain, text)
                if ok:
                    rs.append(rule)
            elif op == "I":
                if rng.random() < 0.2:
                    pos, args = 1, ["-I", chain]
                else:
                    pos = rng.randint(1, len(rs) + 1) if rng.random() < 0.95 else len(rs) + 2
                    args = ["-I", chain, str(pos)]
                ok = ok and pos <= len(rs) + 1
                if ok:
                    ok = st.acyclic_with(chain, rs[:pos - 1] + [rule] + rs[pos - 1:])
                emit(ok, *args, text)
                if ok:
                    rs.insert(pos - 1, rule)
            else:
                pos = rng.randint(1, len(rs)) if rs and rng.random() < 0.95 else len(rs) + 1
                ok = ok and pos <= len(rs)
                if ok:
                    ok = st.acyclic_with(chain, rs[:pos - 1] + [rule] + rs[pos:])
                emit(ok, "-R", chain, str(pos), text)
                if ok:
                    rs[pos - 1] = rule
        elif op == "Dn":
            chain = any_chain()
            rs = st.rules[chain]
            pos = rng.randint(1, len(rs)) if rs and rng.random() < 0.95 else len(rs) + 1
            emit(pos <= len(rs), "-D", chain, str(pos))
            if pos <= len(rs):
                del rs[pos - 1]
        elif op == "Ds":
            chain = any_chain()
            rs = st.rules[chain]
            if rs and rng.random() < 0.9:
                rule = rng.choice(rs)
            else:
                rule = (rule_body(rng, step, chain == "OUTPUT"), "-j ACCEPT")
            ok = rule in rs
            emit(ok, "-D", chain, Model.text(rule))
            if ok:
                rs.remove(rule)
        elif op == "Z":
            r = rng.random()
            if r < 0.3:
                emit(True, "-Z")
            elif r < 0.6:
                emit(True, "-Z", any_chain())
            else:
                chain = any_chain()
                rs = st.rules[chain]
                pos = rng.randint(1, len(rs)) if rs and rng.random() < 0.9 else len(rs) + 1
                emit(pos <= len(rs), "-Z", chain, str(pos))
        elif op == "N":
            if st.users and rng.random() < 0.1:
                emit(False, "-N", rng.choice(st.users))
            else:
                nchains += 1
                name = "c%d" % nchains
                emit(True, "-N", name)
                st.users.append(name)
                st.rules[name] = []
        elif op == "E":
            if not st.users or rng.random() < 0.1:
                emit(False, "-E", rng.choice(used), "x%d" % step)
                continue
            old = rng.choice(st.users)
            if rng.random() < 0.1 and len(st.users) > 1:
                emit(False, "-E", old, rng.choice([u for u in st.users if u != old]))
                continue
            nchains += 1
            new = "e%d" % nchains
            emit(True, "-E", old, new)
            st.users[st.users.index(old)] = new
            st.rules[new] = st.rules.pop(old)
            for c, rs in st.rules.items():
                st.rules[c] = [(b, re.sub(r"^(-[jg]) %s$" % old, r"\1 " + new, t))
                               for b, t in rs]
        elif op == "X":
            free = [u for u in st.users if not st.refs(u)]
            if free and rng.random() < 0.6:
                chain = rng.choice(free)
                if st.rules[chain] and rng.random() < 0.7:
                    emit(True, "-F", chain)
                    st.rules[chain] = []
            elif st.users and rng.random() < 0.9:
                chain = rng.choice(st.users)
            else:
                chain = "nochain"
            ok = chain in st.users and not st.refs(chain) and not st.rules[chain]
            emit(ok, "-X", chain)
            if ok:
                st.users.remove(chain)
                del st.rules[chain]
        elif op == "P":
            if st.users and rng.random() < 0.05:
                emit(False, "-P", rng.choice(st.users), "DROP")
                continue
            chain = rng.choice(used)
            pol = "ACCEPT" if chain == "OUTPUT" and rng.random() < 0.7 else \
                rng.choice(["ACCEPT", "DROP"])
            emit(True, "-P", chain, pol)
        elif op == "F":
            if rng.random() < 0.05:
                emit(True, "-F")
                for c in st.rules:
                    st.rules[c] = []
            else:
                chain = any_chain()
                emit(True, "-F", chain)
                st.rules[chain] = []
        if step >= next_send or step == steps:
            count = rng.randint(30, 90)
            out.append("send\t%d %d" % (cursor % nframes, min(count, nframes)))
            cursor += count
            next_send = step + rng.randint(4, 10)
    print("\n".join(out))


# ---------------------------------------------------------------------------------------
# Packets.

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packed(a):
    """An address of either family, in network byte order."""
    return socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def l4_segment(rng, proto, src, dst, paylen):
    """A transport segment with a correct checksum, and a short description."""
    payload = bytes(rng.getrandbits(8) for _ in range(paylen))
    pseudo = packed(src) + packed(dst)
    pick = lambda: rng.choice(PORTS) if rng.random() < 0.8 else rng.randint(0, 65535)
    if proto == 6:
        sp, dp = pick(), pick()
        r = rng.random()
        if r < 0.5:
            flags = rng.choice([0x02, 0x12, 0x10, 0x18, 0x04, 0x14, 0x11, 0x01, 0x29, 0xc2])
        else:
            flags = rng.getrandbits(8)
        opts = b"\x02\x04\x05\xb4" if flags & 0x02 and rng.random() < 0.5 else b""
        hdr = struct.pack("!HHIIBBHHH", sp, dp, rng.getrandbits(32), rng.getrandbits(32),
                          (5 + len(opts) // 4) << 4, flags, 65535, 0, 0) + opts
        seg = hdr + payload
        c = csum(pseudo + struct.pack("!BBH", 0, 6, len(seg)) + seg)
        seg = seg[:16] + struct.pack("!H", c) + seg[18:]
        return seg, "tcp %d>%d flags=0x%02x" % (sp, dp, flags)
    if proto == 17:
        sp, dp = pick(), pick()
        seg = struct.pack("!HHHH", sp, dp, 8 + paylen, 0) + payload
        c = csum(pseudo + struct.pack("!BBH", 0, 17, len(seg)) + seg) or 0xffff
        seg = seg[:6] + struct.pack("!H", c) + seg[8:]
        return seg, "udp %d>%d" % (sp, dp)
    if proto in (1, 58):   # ICMP, ICMPv6 (whose checksum covers the pseudo-header)
        if rng.random() < 0.8:
            t, c_ = rng.choice(ICMP_TYPES if proto == 1 else ICMP6_TYPES)
        else:
            t, c_ = rng.randint(0, 255), rng.randint(0, 255)
        seg = struct.pack("!BBHI", t, c_, 0, rng.getrandbits(32)) + payload
        c = csum(seg if proto == 1 else pseudo + struct.pack("!BBH", 0, 58, len(seg)) + seg)
        seg = seg[:2] + struct.pack("!H", c) + seg[4:]
        return seg, "%s %d/%d" % ("icmp" if proto == 1 else "icmp6", t, c_)
    return payload, "proto %d" % proto


def ip_header(rng, proto, src, dst, ttl, tot_len, ident, frag, opts=b""):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, rng.choice([0, 0, 0, 0x10, 0xb8]), tot_len,
                    ident, frag, ttl, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst)) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def ip_options(rng):
    return rng.choice([b"\x01\x01\x01\x00",               # NOP NOP NOP EOL
                       b"\x94\x04\x00\x00",               # router alert
                       b"\x01\x94\x04\x00\x00\x00\x00\x00",
                       b"\x07\x07\x04\x00\x00\x00\x00\x00"])  # record route, one slot


def packets(seed, count, forward):
    rng = random.Random("%s:packets" % seed)
    dsts = LOCAL_DSTS + (FWD_DSTS if forward else [])
    out = []

    def emit(ip, what, dmac=DUT_IN_MAC, pad=b""):
        smac = rng.choice(GEN_MACS) if rng.random() < 0.85 else GEN_MACS[0]
        frame = mac(dmac) + mac(smac) + b"\x08\x00" + ip + pad
        out.append("%s # %s %s" % (frame.hex(), smac, what))

    while len(out) < count:
        src, dst = rng.choice(SRCS), rng.choice(dsts)
        r = rng.random()
        proto = 6 if r < 0.38 else 17 if r < 0.62 else 1 if r < 0.82 else rng.choice(OTHER_PROTOS)
        ttl = rng.choice(TTLS) if rng.random() < 0.6 else rng.randint(1, 255)
        ident = rng.getrandbits(16)
        df = 0x4000 if rng.random() < 0.3 else 0
        # Frames the XDP program hands to the kernel uncounted by design (the nftables
        # fallback will judge them): IP options, truncated transport headers, TCP
        # fragments at offset 8, local fragments (INPUT sees them only reassembled).
        # They are drawn as before, so the stream stays the same, but only sent when
        # E2E_KERNEL_CLASSES=1 (both sides must then be iptables: --self-check).
        opts = ip_options(rng) if rng.random() < 0.04 else b""
        local = dst in LOCAL_DSTS
        paylen = rng.choice([0, 0, 1, 8, 20, 100, 500, 1000]) if rng.random() < 0.5 \
            else rng.randint(0, 1400)
        seg, what = l4_segment(rng, proto, src, dst, paylen)
        what = "%s %s>%s ttl=%d" % (what, src, dst, ttl) + (" opts" if opts else "")
        kind = rng.random()
        if kind < 0.06 and len(seg) >= 24 and (KERNEL_CLASSES or (not local and not opts)):
            # first fragment; sometimes its last fragment follows (reassembles for INPUT)
            cut = max(8, (rng.randint(8, len(seg) - 8) // 8) * 8)
            if proto == 6 and rng.random() < 0.2:
                cut = 8     # TCP header split: the tcp match hot-drops
            if proto == 6 and cut < 24 and not KERNEL_CLASSES:
                cut = 24 if len(seg) > 24 else len(seg)  # a whole TCP header: XDP decides
            head, tail = seg[:cut], seg[cut:]
            emit(ip_header(rng, proto, src, dst, ttl, 20 + len(opts) + len(head), ident,
                           0x2000, opts) + head, what + " frag first")
            if rng.random() < 0.35:
                emit(ip_header(rng, proto, src, dst, ttl, 20 + len(tail), ident,
                               cut // 8, b"") + tail, what + " frag last")
            continue
        if kind < 0.12 and (KERNEL_CLASSES or not local):
            off = rng.choice([1, 1, 2, 3, 64, 185]) if rng.random() < 0.5 \
                else rng.randint(1, 8000)
            if off == 1 and proto == 6 and not KERNEL_CLASSES:
                off = 2
            mf = 0x2000 if rng.random() < 0.5 else 0
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1000)))
            if mf:
                body = body + bytes(8 - len(body) % 8) if len(body) % 8 else body
            emit(ip_header(rng, proto, src, dst, ttl, 20 + len(body), ident, mf | off)
                 + body, "%s>%s proto %d frag off=%d%s" % (src, dst, proto, off * 8,
                                                            " mf" if mf else ""))
            continue
        if opts and not KERNEL_CLASSES:
            opts = b""
        if kind < 0.145:
            # transport header cut short in an unfragmented packet
            if proto in (6, 17, 1) and KERNEL_CLASSES:
                seg = seg[:rng.randint(0, 7 if proto != 6 else 19)]
                what += " short-l4"
        ip = ip_header(rng, proto, src, dst, ttl, 20 + len(opts) + len(seg), ident, df,
                       opts) + seg
        if kind < 0.145:
            emit(ip, what)
        elif kind < 0.16:
            ip = ip[:10] + struct.pack("!H", struct.unpack("!H", ip[10:12])[0] ^ 0x0101) \
                + ip[12:]
            emit(ip, what + " BAD-CSUM")
        elif kind < 0.175:
            t = ip_header(rng, proto, src, dst, ttl, len(ip) + rng.randint(1, 200), ident,
                          df, opts)
            emit(t + ip[len(t):], what + " TRUNCATED")
        elif kind < 0.18:
            h = bytearray(ip_header(rng, proto, src, dst, ttl, len(ip), ident, df))
            h[0], h[10:12] = 0x44, b"\0\0"
            h[10:12] = struct.pack("!H", csum(bytes(h)))
            emit(bytes(h) + ip[20:], what + " BAD-IHL")
        elif kind < 0.186:
            emit(ip, what + " OTHERHOST", dmac=FOREIGN_MAC)
        elif kind < 0.21:
            emit(ip, what + " padded", pad=bytes(rng.randint(1, 40)))
        else:
            emit(ip, what)
    print("\n".join(out[:count]))


# ---------------------------------------------------------------------------------------
# Sending.

def send(iface, path, burst=25, gap=0.004):
    frames = []
    with open(path) as f:
        for line in f:
            h = line.split("#", 1)[0].strip()
            if h:
                frames.append(bytes.fromhex(h))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for i, fr in enumerate(frames):
        for attempt in range(50):
            try:
                s.send(fr)
                break
            except BlockingIOError:
                time.sleep(0.01)
            except OSError as e:
                if e.errno != 105:   # ENOBUFS: wait, then retry
                    raise
                time.sleep(0.01)
        if i % burst == burst - 1:
            time.sleep(gap)
    s.close()
    print(len(frames))


# ---------------------------------------------------------------------------------------
# Comparing.

MAX_DIFFS = 40
SAVE_RE = re.compile(r"^\[(\d+):(\d+)\] -A (\S+)(.*)$")
POL_RE = re.compile(r"^:(\S+) (\S+) \[(\d+):(\d+)\]$")


def parse_save(path):
    """[(key, text, (packets, bytes))] with key = (table, chain, rule number or 0)."""
    out, table, idx = [], None, {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("*"):
                table, idx = line[1:], {}
            elif m := POL_RE.match(line):
                if m.group(2) != "-":
                    out.append(((table, m.group(1), 0), "policy " + m.group(2),
                                (int(m.group(3)), int(m.group(4)))))
            elif m := SAVE_RE.match(line):
                c = m.group(3)
                idx[c] = idx.get(c, 0) + 1
                out.append(((table, c, idx[c]), "-A " + c + m.group(4),
                            (int(m.group(1)), int(m.group(2)))))
    return out


def compare(ref_path, dut_path, nrules, ignore_output):
    ref, dut = parse_save(ref_path), parse_save(dut_path)
    d = {k: (t, c) for k, t, c in dut}
    bad, info = [], []
    nr = [x for x in ref if x[0][2]]
    hit = sum(1 for x in nr if x[2][0])
    for key, text, cnt in ref:
        where = "%s %s %s" % (key[0], key[1], "policy" if not key[2] else "#%d" % key[2])
        if key not in d:
            bad.append("%s: missing in dut\n    %s\n    ref %d:%d" % (where, text, *cnt))
            continue
        dtext, dcnt = d.pop(key)
        # OUTPUT counts the dut's own replies (RST, ICMP errors): not decided by XDP,
        # though they follow from what INPUT let through.
        sink = info if ignore_output and key[1] == "OUTPUT" else bad
        if dtext != text:
            bad.append("%s: rule text differs\n    ref %s\n    dut %s" % (where, text, dtext))
        if dcnt != cnt:
            sink.append("%s: %s\n    ref %d:%d   dut %d:%d" % (where, text, *cnt, *dcnt))
    for key, (text, cnt) in d.items():
        bad.append("%s %s #%d: only in dut: %s" % (*key, text))
    pkts = sum(c[0] for k, _, c in ref if k[1] != "OUTPUT" and k[2] == 0)
    print("  ref: %d/%d rules hit; policies counted %d packets" % (hit, len(nr), pkts))
    if not any(c[0] for k, _, c in ref if k[1] != "OUTPUT"):
        bad.append("ref counted nothing: did the frames arrive?")
    if nrules >= 0 and len(nr) != nrules:  # -1: other tables stay from earlier runs
        bad.append("ref holds %d rules, the ruleset %d" % (len(nr), nrules))
    for x in info:
        print("  note (OUTPUT, ignored): " + x)
    for x in bad[:MAX_DIFFS]:
        print("  DIFF " + x)
    if bad:
        print("  %d of %d counters or rules differ%s" % (
            len(bad), len(ref), ", the first %d shown" % MAX_DIFFS if len(bad) > MAX_DIFFS
            else ""))
    return 1 if bad else 0


def main(argv, topo=topo, rules=rules, packets=packets):
    """The command line; a family's own module passes its topo, rules and packets."""
    forward = "--no-forward" not in argv
    ignore_output = "--ignore-output" in argv
    argv = [a for a in argv if a not in ("--no-forward", "--ignore-output")]
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "topo":
        topo()
    elif cmd == "rules" and len(argv) == 5:
        rules(argv[2], int(argv[3]), argv[4], forward)
    elif cmd == "packets" and len(argv) == 4:
        packets(argv[2], int(argv[3]), forward)
    elif cmd == "commands" and len(argv) == 7:
        commands(argv[2], int(argv[3]), argv[4], forward, int(argv[5]), int(argv[6]))
    elif cmd == "send" and len(argv) == 4:
        send(argv[2], argv[3])
    elif cmd == "compare" and len(argv) == 5:
        return compare(argv[2], argv[3], int(argv[4]), ignore_output)
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
