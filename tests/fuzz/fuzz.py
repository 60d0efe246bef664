#!/usr/bin/env python3
"""Mutation fuzzer: iptables-legacy-restore against xdptables-restore.

Every input is an IPv4 iptables-save dump of iptables 1.8.9's test suite
($VECTORS/dumps, the ip6tables ones left out), mutated; or a file of the regression
corpus (tests/fuzz/corpus). Each input is restored by iptables-legacy-restore and by
xdptables-restore (under iptables' names), each in a fresh network namespace of its own,
then saved with counters (iptables-legacy-save -c, xdptables-save -c). Both sides must
agree on the restore's exit status, stdout and stderr (xdptables named as iptables, its
own "xdptables: warning:" lines left out) and on the saved ruleset (the '#' comment
lines, which carry dates, left out). Every command runs under a timeout: a side that
does not finish is a hang, xdptables killed by a signal is a crash; both always fail.

Mutations (MUTATORS below): byte flips, truncation, NUL bytes, huge numbers (counters,
ports, prefixes, limits, marks...), very long lines, arguments and names, many
arguments, deep and wide chain graphs (long jump chains, many chains, loops, diamonds),
duplicated/missing/misplaced COMMIT, unknown tables, chains and options, lines and
tokens deleted, repeated or swapped, stray whitespace. Deterministic: input I of seed S
is the same on every run (its own random generator, seeded by "S:I").

Usage (as root, with $VECTORS or ../shared/iptables-1.8.9-tests beside the repository):
  meson test -C build fuzz                      # the CI run: seed 1, 300 inputs + corpus
  meson test -C build fuzz -t 10 --test-args '-n 5000 --seed 7'   # a long run (~5 min)
  fuzz.py --bindir build/src -n 5000 --seed 7 --vector-file X.t ...   # the same by hand
  fuzz.py --bindir build/src --seed 7 --only 1234 --show   # one input: print it, both sides
  fuzz.py ... --save-dir /tmp/fz                # write every disagreeing input there
  fuzz.py ... --stats                           # disagreements per mutator and per kind
Exit status: 0 all agree, 1 a disagreement, crash or hang, 77 skipped (not root, or the
conformance data is missing).
"""

import argparse
import concurrent.futures
import os
import random
import shutil
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 20  # seconds for one command; a restore of these inputs takes well under one

def jumps_nest(save, n):
    """Whether a path of n jumps (-j or -g to a user chain) leads from a built-in chain,
    in a table of an iptables-save text."""
    for table in save.split(b"\n*"):
        edges, builtin = {}, []
        for line in table.split(b"\n"):
            if line.startswith(b":"):
                name, policy = (line[1:].split(b" ") + [b""])[:2]
                edges.setdefault(name, [])
                if policy != b"-":
                    builtin.append(name)
            elif b"-A " in line:
                words = line.split(b" ")
                i = words.index(b"-A")
                for k in range(i + 2, len(words) - 1):
                    if words[k] in (b"-j", b"-g"):
                        edges.setdefault(words[i + 1], []).append(words[k + 1])
        memo = {}

        def reaches(c, k):  # k more jumps from c
            if k == 0:
                return True
            if (c, k) not in memo:
                memo[c, k] = any(reaches(t, k - 1) for t in edges.get(c, []) if t in edges)
            return memo[c, k]
        if any(reaches(c, n) for c in builtin):
            return True
    return False


# Disagreements that cannot be fixed, left out of the verdict (but still counted and
# printed): (name, reason, predicate over the Outcome pair).
EXCLUSIONS = [
    # xdptables' netfilter layer is nftables: nf_tables refuses a base chain whose jumps
    # (and gotos) nest 16 deep (NFT_JUMP_STACK_SIZE, nft_chain_validate: EMLINK), where
    # x_tables has no such limit. iptables-nft refuses the same rulesets. Recognised by
    # the table iptables-legacy committed and xdptables' refusal of it.
    ("nft-jump-depth",
     "a path of 16 or more jumps from a built-in chain: nf_tables refuses it (EMLINK), x_tables does not",
     lambda ref, dut: jumps_nest(ref.save, 16) and b"loading the netfilter rules: Too many links." in dut.err),
]


# ---------------------------------------------------------------------------------------
# Inputs

def load_dumps(vectors):
    d = os.path.join(vectors, "dumps")
    out = []
    for name in sorted(os.listdir(d)):
        if "ip6" in name:  # IPv6 is not handled yet
            continue
        with open(os.path.join(d, name), "rb") as f:
            out.append((name, f.read()))
    return out


def split_lines(data):
    return data.split(b"\n")


def join_lines(lines):
    return b"\n".join(lines)


def rule_line_indexes(lines):
    return [i for i, l in enumerate(lines) if l.startswith(b"-A ") or l.startswith(b"[")]


HUGE = [b"4294967295", b"4294967296", b"18446744073709551615", b"18446744073709551616",
        b"99999999999999999999999999", b"-1", b"65535", b"65536", b"2147483647",
        b"2147483648", b"256", b"33", b"0", b"0x10000", b"0xffffffffffffffff", b"1e9",
        b"9223372036854775807", b"9223372036854775808", b"+5", b"007", b"-0"]


def huge(rng):
    return rng.choice(HUGE)


# Rules whose numbers are set to huge values ({} is replaced).
NUMBER_RULES = [
    b"-A INPUT -p tcp -m tcp --dport {} -j ACCEPT",
    b"-A INPUT -p udp -m udp --sport {}:{} -j DROP",
    b"-A INPUT -s 198.18.0.0/{} -j ACCEPT",
    b"-A INPUT -d 198.18.0.1/{} -j DROP",
    b"-A INPUT -m limit --limit {}/sec -j ACCEPT",
    b"-A INPUT -m limit --limit 5/min --limit-burst {} -j ACCEPT",
    b"-A INPUT -p icmp -m icmp --icmp-type {} -j ACCEPT",
    b"-A INPUT -p icmp -m icmp --icmp-type 3/{} -j ACCEPT",
    b"-A INPUT -m length --length {}:{} -j DROP",
    b"-A INPUT -m ttl --ttl-eq {} -j DROP",
    b"-A INPUT -m mark --mark {} -j DROP",
    b"-A INPUT -m mark --mark 0x1/{} -j DROP",
    b"-A INPUT -p tcp -m multiport --dports 1,{},3 -j ACCEPT",
    b"-A INPUT -p tcp -m connlimit --connlimit-above {} -j REJECT --reject-with tcp-reset",
    b"-A INPUT -m hashlimit --hashlimit-upto {}/sec --hashlimit-name fz -j ACCEPT",
    b"-A INPUT -m statistic --mode nth --every {} -j DROP",
    b"-A INPUT -j LOG --log-level {}",
    b"-A INPUT -j NFLOG --nflog-group {}",
    b"-A INPUT -j MARK --set-mark {}",
    b"-A INPUT -m dscp --dscp {} -j ACCEPT",
    b"-A INPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN -m tcp --dport 1:{} -j DROP",
    b"-A INPUT -m recent --seconds {} --name fz --rcheck -j DROP",
    b"-A INPUT -m conntrack --ctstate NEW -m conntrack --ctexpire {} -j ACCEPT",
    b"-A INPUT -p esp -m esp --espspi {} -j DROP",
    b"-A INPUT -j NFQUEUE --queue-num {}",
    b"-A INPUT -m owner --uid-owner {} -j DROP",
    b"-A OUTPUT -m owner --uid-owner {} -j DROP",
    b"[{}:{}] -A INPUT -j ACCEPT",
    b":INPUT ACCEPT [{}:{}]",
]


def find_table(lines, rng, name=None):
    """Index just after a '*table' line (of `name`, or any), or None."""
    idx = [i for i, l in enumerate(lines) if l.startswith(b"*") and (name is None or l.strip() == b"*" + name)]
    return rng.choice(idx) + 1 if idx else None


def insert_in_filter(lines, rng, new):
    i = find_table(lines, rng, b"filter")
    if i is None:
        lines[:0] = [b"*filter"] + new + [b"COMMIT"]
        return
    # after the chain lines of that table
    while i < len(lines) and lines[i].startswith(b":"):
        i += 1
    j = i
    ends = [k for k in range(i, len(lines)) if lines[k].strip() == b"COMMIT"]
    if ends:
        j = rng.randint(i, ends[0])
    lines[j:j] = new


def m_flip(rng, data, dumps):
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not b:
            break
        p = rng.randrange(len(b))
        if rng.random() < 0.5:
            b[p] ^= 1 << rng.randrange(8)
        else:
            b[p] = rng.choice(b" \t\r\n:[]!-\"'\\*#/,.0123456789AZaz\x00\x7f\xff")
    return bytes(b)


def m_truncate(rng, data, dumps):
    return data[: rng.randrange(len(data) + 1)]


def m_nul(rng, data, dumps):
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.3:  # at a line start
            starts = [0] + [i + 1 for i, c in enumerate(b) if c == 10]
            p = rng.choice(starts)
        elif r < 0.6:  # inside a number
            nums = [m.start() + rng.randrange(len(m.group())) for m in re.finditer(rb"\d+", bytes(b))]
            p = rng.choice(nums) if nums else rng.randrange(len(b) + 1)
        else:
            p = rng.randrange(len(b) + 1)
        b[p:p] = b"\0"
    return bytes(b)


def m_hugenum(rng, data, dumps):
    lines = split_lines(data)
    if rng.random() < 0.5:
        nums = [(i, m) for i, l in enumerate(lines) for m in re.finditer(rb"\d+", l)]
        if nums:
            i, m = rng.choice(nums)
            l = lines[i]
            lines[i] = l[: m.start()] + huge(rng) + l[m.end():]
            return join_lines(lines)
    tmpl = rng.choice(NUMBER_RULES)
    parts = tmpl.split(b"{}")
    line = parts[0]
    for p in parts[1:]:
        line += (huge(rng) if rng.random() < 0.7 else str(rng.randint(0, 100)).encode()) + p
    if line.startswith(b":"):
        i = find_table(lines, rng, b"filter")
        if i is None:
            lines[:0] = [b"*filter", line, b"COMMIT"]
        else:
            lines[i:i] = [line]
    else:
        insert_in_filter(lines, rng, [line])
    return join_lines(lines)


LENGTHS = [28, 29, 30, 31, 32, 33, 255, 256, 1022, 1023, 1024, 1025, 4096, 10200, 10237, 10238,
           10239, 10240, 10241, 20000, 65536]


def m_long(rng, data, dumps):
    lines = split_lines(data)
    n = rng.choice(LENGTHS)
    what = rng.randrange(9)
    word = bytes(rng.choice(b"abcXYZ019_-") for _ in range(1)) * n
    if what == 0:
        new = [b"-A INPUT -m comment --comment " + word + b" -j ACCEPT"]
    elif what == 1:
        new = [b"-A INPUT -m comment --comment \"" + b"a " * (n // 2) + b"\" -j ACCEPT"]
    elif what == 2:  # a chain name
        name = (b"C" * n)[:n]
        ins = [b":" + name + b" - [0:0]", b"-A INPUT -j " + name, b"-A " + name + b" -j ACCEPT"]
        new = None
        i = find_table(lines, rng, b"filter")
        if i is None:
            lines[:0] = [b"*filter"] + ins + [b"COMMIT"]
        else:
            lines[i:i] = ins[:1]
            insert_in_filter(lines, rng, ins[1:])
        return join_lines(lines)
    elif what == 3:  # padding before the end of a line
        rl = rule_line_indexes(lines)
        if rl:
            i = rng.choice(rl)
            lines[i] = lines[i] + rng.choice([b" ", b"\t"]) * n
            return join_lines(lines)
        new = [b"-A INPUT -j ACCEPT" + b" " * n]
    elif what == 4:
        new = [b"-A INPUT -j LOG --log-prefix " + word[: max(1, n % 64)]]
    elif what == 5:  # an interface name
        new = [b"-A INPUT -i " + (b"e" * (n % 40 + 1)) + b" -j DROP"]
    elif what == 6:  # many arguments
        k = rng.choice([60, 61, 62, 63, 83, 84, 85, 125, 126, 127, 200, 1000])
        new = [b"-A INPUT" + b" -s 198.18.0.1" * (k // 2) + (b" !" if k % 2 else b"") + b" -j ACCEPT"]
    elif what == 7:  # a long line of many short rules' worth of options
        new = [b"-A INPUT -p tcp" + b" -m tcp --dport 1" * (n // 18 + 1) + b" -j DROP"]
    else:  # a long unknown option or table
        if rng.random() < 0.5:
            new = [b"-A INPUT --" + word + b" 1 -j ACCEPT"]
        else:
            lines[:0] = [b"*" + word, b"COMMIT"]
            return join_lines(lines)
    insert_in_filter(lines, rng, new)
    return join_lines(lines)


def chain_graph(rng):
    """A filter table of user chains: a long jump chain, a wide fan, a loop or diamonds."""
    kind = rng.randrange(6)
    n = rng.choice([2, 5, 20, 100, 300, 1000])
    name = lambda i: b"c%d" % i
    decl, rules = [], []
    if kind == 0:  # long jump chain
        decl = [b":" + name(i) + b" - [0:0]" for i in range(n)]
        rules = [b"-A INPUT -j c0"] + [b"-A " + name(i) + b" -s 198.18.%d.0/24 -j " % (i % 256) + name(i + 1)
                                        for i in range(n - 1)] + [b"-A " + name(n - 1) + b" -j DROP"]
    elif kind == 1:  # wide: INPUT jumps to every chain
        decl = [b":" + name(i) + b" - [0:0]" for i in range(n)]
        rules = [b"-A INPUT -s 198.18.%d.%d/32 -j " % (i // 256, i % 256) + name(i) for i in range(n)]
        rules += [b"-A " + name(i) + b" -p udp -m udp --dport %d -j DROP" % (i + 1) for i in range(n)]
    elif kind == 2:  # a loop (refused by the kernel)
        decl = [b":" + name(i) + b" - [0:0]" for i in range(n)]
        rules = [b"-A INPUT -j c0"] + [b"-A " + name(i) + b" -j " + name((i + 1) % n) for i in range(n)]
    elif kind == 3:  # diamonds: each chain jumps to the next twice (2^depth paths)
        d = rng.choice([3, 8, 12, 16, 20, 24])
        decl = [b":" + name(i) + b" - [0:0]" for i in range(d)]
        rules = [b"-A INPUT -j c0"]
        for i in range(d - 1):
            rules += [b"-A " + name(i) + b" -p tcp -j " + name(i + 1), b"-A " + name(i) + b" -p udp -j " + name(i + 1)]
        rules += [b"-A " + name(d - 1) + b" -s 198.18.0.1/32 -j DROP"]
    elif kind == 4:  # goto and RETURN chains
        decl = [b":" + name(i) + b" - [0:0]" for i in range(n)]
        rules = [b"-A INPUT -g c0"] + [b"-A " + name(i) + b" -s 198.18.0.%d/32 -j RETURN" % (i % 256) for i in range(n)]
        rules += [b"-A " + name(i) + b" -g " + name(i + 1) for i in range(n - 1)]
    else:  # many empty chains, some referenced, some deleted
        decl = [b":" + name(i) + b" - [0:0]" for i in range(n)]
        rules = [b"-A FORWARD -j " + name(rng.randrange(n)) for _ in range(min(n, 50))]
        rules += [b"-X " + name(rng.randrange(n)) for _ in range(3)]
    return decl, rules


def m_graph(rng, data, dumps):
    lines = split_lines(data)
    decl, rules = chain_graph(rng)
    i = find_table(lines, rng, b"filter")
    if i is None or rng.random() < 0.3:
        return join_lines([b"*filter", b":INPUT ACCEPT [0:0]"] + decl + rules + [b"COMMIT"]) + b"\n"
    lines[i:i] = decl
    insert_in_filter(lines, rng, rules)
    return join_lines(lines)


def m_commit(rng, data, dumps):
    lines = split_lines(data)
    commits = [i for i, l in enumerate(lines) if l.strip() == b"COMMIT"]
    r = rng.randrange(7)
    if r == 0 and commits:
        del lines[rng.choice(commits)]
    elif r == 1 and commits:
        i = rng.choice(commits)
        lines[i:i] = [b"COMMIT"]
    elif r == 2:
        lines.insert(rng.randrange(len(lines) + 1), b"COMMIT")
    elif r == 3 and commits:
        i = rng.choice(commits)
        lines[i] = rng.choice([b"COMMIT ", b"COMMIT\r", b" COMMIT", b"commit", b"COMMIT x", b"COMMITT",
                               b"COMMIT\0", b"COMMIT\t", b"\tCOMMIT", b"COMMI"])
    elif r == 4:
        return data.rstrip(b"\n")  # no final newline
    elif r == 5 and commits:  # the table's header repeated
        tables = [i for i, l in enumerate(lines) if l.startswith(b"*")]
        if tables:
            lines.insert(rng.choice(commits), lines[rng.choice(tables)])
    else:
        lines = [l for l in lines if l.strip() != b"COMMIT"]
    return join_lines(lines)


TABLES = [b"filtr", b"broute", b"FILTER", b"nat ", b"", b"filter extra", b"security", b"raw", b"mangle",
          b"nat", b"filter\t", b"filter\r", b" filter", b"x" * 40, b"nat;", b"-t", b"*filter"]
CHAINS = [b"NOPE", b"input", b"INPUT2", b"", b"-", b"ACCEPT", b"DROP", b"RETURN", b"QUEUE", b"-j",
          b"OUTPUT", b"PREROUTING", b"POSTROUTING", b"!", b"a b", b"--", b"x" * 29]
OPTIONS = [b"--bogus", b"-m bogus", b"-j BOGUS", b"--dport 1", b"-m tcp --bogus 1", b"-x", b"-Z", b"-L",
           b"-F", b"-X", b"-N fz", b"-E INPUT fz", b"-P INPUT DROP", b"--line-numbers", b"-t nat",
           b"-4", b"-6", b"-v", b"-w", b"-w 1", b"-c 1 2", b"--set-counters 1 2", b"!", b"! !", b"-p",
           b"-s", b"'unterminated", b"\"unterminated", b"\"quoted arg\"", b"\\", b"-j", b"-m", b"-g",
           b"-p tcp", b"-p 300", b"-p nosuch", b"-m udp", b"-m icmp", b"-i", b"-o lo", b"-f", b"! -f",
           b"--fragment", b"-s 1.2.3", b"-s 1.2.3.4/", b"-d ::1", b"-s host.invalid", b"-A", b"-I INPUT 1",
           b"-D INPUT 1", b"-R INPUT 1", b"-S", b"-h", b"-V", b"--help", b"--version", b"--modprobe=/bin/true",
           b"-m comment", b"--comment x", b"-m state --state BOGUS", b"-j REJECT --reject-with bogus",
           b"-j LOG --log-level bogus", b"--", b"-", b"-j DROP -j ACCEPT", b"-m limit --limit 1/fortnight",
           b"-m mark --mark x", b"-m conntrack", b"--ctstate NEW", b"-m multiport --dports 1", b"-y",
           b"--syn", b"-p tcp --syn", b"--ipv4", b"--ipv6", b"-C INPUT", b"--goto", b"-j RETURN x"]


def m_unknown(rng, data, dumps):
    lines = split_lines(data)
    r = rng.randrange(4)
    if r == 0:
        tables = [i for i, l in enumerate(lines) if l.startswith(b"*")]
        new = b"*" + rng.choice(TABLES)
        if tables:
            lines[rng.choice(tables)] = new
        else:
            lines[:0] = [new, b"COMMIT"]
    elif r == 1:
        cand = [i for i, l in enumerate(lines) if l.startswith(b":") or l.startswith(b"-A ")]
        if cand:
            i = rng.choice(cand)
            l = lines[i]
            c = rng.choice(CHAINS)
            if l.startswith(b":"):
                rest = l[1:].split(b" ", 1)
                lines[i] = b":" + c + (b" " + rest[1] if len(rest) > 1 else b"")
            else:
                parts = l.split(b" ", 2)
                lines[i] = b" ".join([parts[0], c] + parts[2:])
    else:
        rl = rule_line_indexes(lines)
        opt = rng.choice(OPTIONS)
        if rl:
            i = rng.choice(rl)
            toks = lines[i].split(b" ")
            k = rng.randint(2, len(toks)) if len(toks) > 2 else len(toks)
            toks[k:k] = [opt]
            lines[i] = b" ".join(toks)
        else:
            insert_in_filter(lines, rng, [b"-A INPUT " + opt])
    return join_lines(lines)


def m_lines(rng, data, dumps):
    lines = split_lines(data)
    if not lines:
        return data
    r = rng.randrange(5)
    i = rng.randrange(len(lines))
    if r == 0:
        del lines[i]
    elif r == 1:
        lines.insert(i, lines[i])
    elif r == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif r == 3:  # a line of another dump
        other = split_lines(rng.choice(dumps)[1])
        lines.insert(i, rng.choice(other))
    else:
        l = lines.pop(i)
        lines.insert(rng.randrange(len(lines) + 1), l)
    return join_lines(lines)


def m_tokens(rng, data, dumps):
    lines = split_lines(data)
    cand = [i for i, l in enumerate(lines) if l.count(b" ") >= 1]
    if not cand:
        return data
    i = rng.choice(cand)
    toks = lines[i].split(b" ")
    k = rng.randrange(len(toks))
    r = rng.randrange(5)
    if r == 0:
        del toks[k]
    elif r == 1:
        toks.insert(k, toks[k])
    elif r == 2 and k + 1 < len(toks):
        toks[k], toks[k + 1] = toks[k + 1], toks[k]
    elif r == 3:
        toks.insert(k, b"!")
    else:  # a token cut short
        toks[k] = toks[k][: rng.randrange(len(toks[k]) + 1)]
    lines[i] = b" ".join(toks)
    return join_lines(lines)


def m_space(rng, data, dumps):
    lines = split_lines(data)
    i = rng.randrange(len(lines))
    s = rng.choice([b"\r", b"\t", b" ", b"  ", b"\v", b"\f"])
    r = rng.randrange(3)
    if r == 0:
        lines[i] = s + lines[i]
    elif r == 1:
        lines[i] = lines[i] + s
    else:
        l = lines[i]
        p = rng.randrange(len(l) + 1)
        lines[i] = l[:p] + s + l[p:]
    return join_lines(lines)


def load_vectors(paths):
    """(table, chain, args) of every rule line of iptables' .t vectors (OK, FAIL and
    NOMATCH alike): rules of the extensions xdptables has, valid or not."""
    out = []
    for path in paths or []:
        table, chains = b"filter", [b"INPUT"]
        with open(path, "rb") as f:
            for line in f.read().split(b"\n"):
                if line.startswith(b"*"):
                    table = line[1:].strip()
                elif line.startswith(b":"):
                    chains = line[1:].strip().split(b",")
                elif line and line[0:1] not in b"#@%" and b";" in line:
                    out.append((table, chains, line.split(b";")[0]))
    return out


VECTORS = []  # filled by main() from --vector-file


def insert_in_table(lines, rng, table, new):
    """Rule lines into a block of `table` (a new block at the end when there is none)."""
    i = find_table(lines, rng, table)
    if i is None:
        lines += [b"*" + table] + new + [b"COMMIT", b""]
        return
    ends = [k for k in range(i, len(lines)) if lines[k].strip() == b"COMMIT"]
    j = rng.randint(i, ends[0]) if ends else len(lines)
    while j < len(lines) and lines[j].startswith(b":"):
        j += 1
    lines[j:j] = new


def m_vector(rng, data, dumps):
    """A rule of an extension's vectors, as it is or with a number or a token changed."""
    lines = split_lines(data)
    if not VECTORS:
        return m_hugenum(rng, data, dumps)
    table, chains, args = rng.choice(VECTORS)
    toks = args.split(b" ")
    r = rng.random()
    if r < 0.3:
        nums = [(k, m) for k, t in enumerate(toks) for m in re.finditer(rb"\d+", t)]
        if nums:
            k, m = rng.choice(nums)
            toks[k] = toks[k][: m.start()] + huge(rng) + toks[k][m.end():]
    elif r < 0.45 and len(toks) > 1:
        del toks[rng.randrange(len(toks))]
    elif r < 0.6:
        other = rng.choice(VECTORS)[2].split(b" ")
        k = rng.randrange(len(other))
        toks[rng.randrange(len(toks) + 1):0] = other[k:k + rng.randint(1, 3)]
    line = b"-A " + rng.choice(chains) + b" " + b" ".join(toks)
    if rng.random() < 0.2:
        line = b"[%d:%d] " % (rng.randrange(100), rng.randrange(10000)) + line
    insert_in_table(lines, rng, table, [line])
    return join_lines(lines)


COMMANDS = [b"-I INPUT 1 -s 198.18.0.9 -j DROP", b"-I INPUT 99 -j DROP", b"-I INPUT 0 -j DROP",
            b"-D INPUT 1", b"-D INPUT 99", b"-D INPUT -j ACCEPT", b"-D INPUT -i lo -j ACCEPT",
            b"-R INPUT 1 -j DROP", b"-R INPUT 2 -s 198.18.0.1,198.18.0.2 -j DROP", b"-R INPUT 99 -j DROP",
            b"-N fz", b"-N INPUT", b"-N ACCEPT", b"-N -fz", b"-E fz fz2", b"-E INPUT x", b"-E WLAN fz",
            b"-E block accept_log", b"-P INPUT DROP", b"-P FORWARD REJECT", b"-P fz DROP", b"-P INPUT",
            b"-F", b"-F INPUT", b"-F fz", b"-Z", b"-Z INPUT 1", b"-Z INPUT 99", b"-X", b"-X WLAN", b"-X block",
            b"-X INPUT", b"-C INPUT -i lo -j ACCEPT", b"-C INPUT -j NOPE", b"-S", b"-S INPUT 1", b"-S nope",
            b"-L", b"-L -n -v", b"-L INPUT -n --line-numbers -x", b"-L -Z -n", b"-A INPUT -s 1.2.3.4/8 -j fz",
            b"-A fz -j RETURN", b"-A INPUT -g INPUT", b"-A INPUT -j INPUT", b"-A OUTPUT -j block",
            b"-A INPUT -s 198.18.0.1,198.18.0.2,198.18.0.1 -d 198.18.1.0/24,198.18.2.0/24 -j ACCEPT",
            b"-A INPUT ! -s 198.18.0.1,198.18.0.2 -j ACCEPT", b"-A INPUT -s localhost -j ACCEPT"]


def m_command(rng, data, dumps):
    """Restore lines with commands other than -A: iptables-restore runs any of them."""
    lines = split_lines(data)
    new = [rng.choice(COMMANDS) for _ in range(rng.randint(1, 3))]
    tables = [i for i, l in enumerate(lines) if l.startswith(b"*")]
    if not tables:
        lines[:0] = [b"*filter"] + new + [b"COMMIT"]
        return join_lines(lines)
    i = rng.choice(tables) + 1
    ends = [k for k in range(i, len(lines)) if lines[k].strip() == b"COMMIT"]
    j = rng.randint(i, ends[0]) if ends else len(lines)
    lines[j:j] = new
    return join_lines(lines)


COUNTERS = [b"[0:0]", b"[1:2:3]", b"[:]", b"[-1:5]", b"[1 :2]", b"[1: 2]", b"[1:2", b"1:2]", b"[]", b"[:5]",
            b"[5:]", b"[0x10:010]", b"[18446744073709551615:18446744073709551615]", b"[18446744073709551616:1]",
            b"[ 1:2]", b"[1:2]x", b"[a:b]", b"[1:2] [3:4]", b"[1::2]", b"[::]", b"[+1:+2]", b"[1\t:2]"]


def m_counters(rng, data, dumps):
    lines = split_lines(data)
    cand = [i for i, l in enumerate(lines) if l.startswith(b":") or l.startswith(b"-A ") or l.startswith(b"[")]
    if not cand:
        return data
    i = rng.choice(cand)
    c = rng.choice(COUNTERS)
    l = lines[i]
    if l.startswith(b":"):
        w = l.split(b" ")
        lines[i] = b" ".join(w[:2] + [c]) if len(w) >= 2 else l + b" ACCEPT " + c
    elif l.startswith(b"["):
        lines[i] = c + l[l.find(b"]") + 1:] if b"]" in l else c + b" " + l
    else:
        lines[i] = c + rng.choice([b" ", b"", b"  "]) + l
    return join_lines(lines)


def m_case(rng, data, dumps):
    """A word's case flipped: tables, chains, policies, protocols, options, targets."""
    lines = split_lines(data)
    cand = [(i, m) for i, l in enumerate(lines) for m in re.finditer(rb"[A-Za-z][A-Za-z_-]*", l)]
    if not cand:
        return data
    i, m = rng.choice(cand)
    w = m.group()
    w = w.swapcase() if rng.random() < 0.5 else w[:1].swapcase() + w[1:]
    lines[i] = lines[i][: m.start()] + w + lines[i][m.end():]
    return join_lines(lines)


def m_splice(rng, data, dumps):
    """A few words of another rule line (of any dump) put into a rule line."""
    lines = split_lines(data)
    rl = rule_line_indexes(lines)
    other = [l for _, d in dumps for l in split_lines(d) if l.startswith(b"-A ")]
    if not rl or not other:
        return data
    i = rng.choice(rl)
    src = rng.choice(other).split(b" ")
    k = rng.randrange(2, len(src)) if len(src) > 2 else 0
    words = src[k:k + rng.randint(1, 4)]
    toks = lines[i].split(b" ")
    p = rng.randint(2, len(toks)) if len(toks) > 2 else len(toks)
    toks[p:p] = words
    lines[i] = b" ".join(toks)
    return join_lines(lines)


def m_quote(rng, data, dumps):
    """Quotes and backslashes in a rule line (add_param_to_argv's quoting)."""
    lines = split_lines(data)
    rl = rule_line_indexes(lines)
    if not rl:
        return data
    i = rng.choice(rl)
    l = lines[i]
    p = rng.randrange(len(l) + 1)
    lines[i] = l[:p] + rng.choice([b"\"", b"'", b"\\", b"\\\"", b"\"\"", b"\" \"", b"\\ ", b"\"a b\""]) + l[p:]
    return join_lines(lines)


MUTATORS = [("flip", m_flip), ("truncate", m_truncate), ("nul", m_nul), ("hugenum", m_hugenum),
            ("long", m_long), ("graph", m_graph), ("commit", m_commit), ("unknown", m_unknown),
            ("lines", m_lines), ("tokens", m_tokens), ("space", m_space), ("vector", m_vector),
            ("command", m_command), ("counters", m_counters), ("case", m_case), ("splice", m_splice),
            ("quote", m_quote)]

# The restore's options: counters mostly (what the comparison of counters needs).
FLAGS = [["-c"], ["-c"], ["-c"], ["-c"], [], [], ["-n", "-c"], ["--test"], ["-v", "-c"], ["-n", "-v"],
         ["-T", "filter", "-c"], ["-c", "-T", "nat"], ["--test", "-v"], ["-c", "-w"]]


def make_input(seed, i, dumps):
    rng = random.Random("%s:%d" % (seed, i))
    base_name, data = rng.choice(dumps)
    names = []
    for _ in range(1 if rng.random() < 0.75 else 2):
        name, fn = rng.choice(MUTATORS)
        data = fn(rng, data, dumps)
        names.append(name)
    return "+".join(names), base_name, rng.choice(FLAGS), data


# ---------------------------------------------------------------------------------------
# Running both sides

class Outcome:
    def __init__(self):
        self.rc = None
        self.out = b""
        self.err = b""
        self.save = b""
        self.save_rc = None
        self.hang = None  # the command that did not finish


TABLES_EMPTY = (b"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
                b"*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
                b":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n"
                b"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                b":POSTROUTING ACCEPT [0:0]\nCOMMIT\n"
                b"*security\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
                b"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n")


def sh(*argv):
    subprocess.run(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)


def normalize(text, dut):
    lines = text.split(b"\n")
    if dut:
        lines = [l for l in lines if not l.startswith(b"xdptables: warning: ")]
    text = b"\n".join(lines)
    text = text.replace(b"xdptables", b"iptables").replace(b"(xdp)", b"(legacy)")
    return text.replace(b"iptables-legacy", b"iptables")


def normalize_save(text):
    return b"\n".join(l for l in text.split(b"\n") if not l.startswith(b"#"))


class Side:
    """One flavour in a network namespace of its own. Fresh: a new namespace per input
    (the reference). Reused (the fast path): the namespace stays, every table is made at
    the start and, after each input, restored empty (policies ACCEPT, counters zero, no
    user chain), so each input meets the same state; a namespace whose reset fails, or
    whose command hung, is replaced."""

    def __init__(self, dut, ns, bindir, lockfile, fresh):
        self.dut, self.ns, self.bindir, self.fresh = dut, ns, bindir, fresh
        self.env = dict(os.environ, XTABLES_LOCKFILE=lockfile, LC_ALL="C")
        if dut:
            self.restore = [os.path.join(bindir, "iptables-restore")]
            self.save = [os.path.join(bindir, "iptables-save")]
        else:
            self.restore, self.save = ["iptables-legacy-restore"], ["iptables-legacy-save"]
        self.up = False

    def run(self, argv, stdin):
        """argv in the namespace under TIMEOUT: (rc, stdout, stderr), rc None if it hung."""
        cmd = ["nsenter", "--net=/run/netns/" + self.ns] + argv
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.env, start_new_session=True)
        try:
            out, err = p.communicate(stdin, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return None, b"", b""
        return p.returncode, out, err

    def open(self):
        sh("ip", "netns", "add", self.ns)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        self.up = True
        if not self.fresh and not self.reset():
            raise RuntimeError("fuzz: cannot reset the empty ruleset in " + self.ns)

    def reset(self):
        rc, _, _ = self.run(self.restore + ["-c"], TABLES_EMPTY)
        return rc == 0

    def close(self):
        if not self.up:
            return
        if self.dut:
            try:
                self.run([os.path.join(self.bindir, "xdptables"), "detach"], b"")
            except Exception:
                pass
        sh("ip", "netns", "del", self.ns)
        self.up = False

    def outcome(self, flags, data):
        if not self.up:
            self.open()
        o = Outcome()
        try:
            rc, out, err = self.run(self.restore + flags, data)
            if rc is None:
                o.hang = "restore"
                return o
            o.rc, o.out, o.err = rc, normalize(out, self.dut), normalize(err, self.dut)
            rc, out, err = self.run(self.save + ["-c"], b"")
            if rc is None:
                o.hang = "save"
                return o
            o.save_rc = rc
            o.save = normalize_save(out) + normalize(err, self.dut)
            return o
        finally:
            if self.fresh or o.hang or not self.reset():
                self.close()


def kinds_of(ref, dut):
    """What differs: [] when both sides agree."""
    k = []
    if dut.hang:
        k.append("hang(" + dut.hang + ")")
    if dut.rc is not None and (dut.rc < 0 or dut.rc >= 128):
        k.append("crash")
    if ref.hang:
        k.append("ref-hang")
    if k:
        return k
    if ref.rc != dut.rc:
        k.append("status")
    if ref.err != dut.err:
        k.append("stderr")
    if ref.out != dut.out:
        k.append("stdout")
    if ref.save != dut.save or ref.save_rc != dut.save_rc:
        k.append("ruleset")
    return k


def excluded(ref, dut):
    for name, _reason, pred in EXCLUSIONS:
        if pred(ref, dut):
            return name
    return None


def first_line(b):
    return b.split(b"\n", 1)[0].decode("utf-8", "replace")


def signature(ref, dut, kinds):
    """A class for the report: what differs and both sides' first stderr line, numbers masked."""
    def msg(o):
        return re.sub(r"\d+", "N", first_line(o.err))[:60]
    return "%s | iptables-legacy rc=%s: %s | xdptables rc=%s: %s" % ("/".join(kinds), ref.rc, msg(ref), dut.rc, msg(dut))


def show(ref, dut):
    import difflib

    def text(o):
        return ("rc=%s\n--- stdout\n%s\n--- stderr\n%s\n--- save -c (rc=%s)\n%s\n" % (
            o.rc, o.out.decode("utf-8", "replace"), o.err.decode("utf-8", "replace"), o.save_rc,
            o.save.decode("utf-8", "replace"))).splitlines()
    return "\n".join(difflib.unified_diff(text(ref), text(dut), "iptables-legacy", "xdptables", lineterm="", n=2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bindir", default=os.environ.get("XDPT_BINDIR"), help="the build's src directory")
    ap.add_argument("--vectors", default=os.environ.get("VECTORS") or os.path.join(HERE, "..", "..", "..", "shared",
                                                                                  "iptables-1.8.9-tests"))
    ap.add_argument("--seed", default="1")
    ap.add_argument("-n", "--count", type=int, default=300, help="mutated inputs (default 300)")
    ap.add_argument("--start", type=int, default=0, help="first input number")
    ap.add_argument("--only", type=int, action="append", help="run only input N (repeatable)")
    ap.add_argument("--corpus", default=os.path.join(HERE, "corpus"),
                    help="regression inputs run as well: NAME.in, restored with the options in NAME.flags "
                         "(default tests/fuzz/corpus; --save-dir writes this form)")
    ap.add_argument("--no-corpus", action="store_true", help="leave out the corpus")
    ap.add_argument("-j", "--jobs", type=int, default=4, help="inputs run at a time (default 4)")
    ap.add_argument("--fresh", action="store_true",
                    help="a fresh namespace pair per input (the reference; slower) instead of one per job, reset")
    ap.add_argument("--vector-file", action="append", default=[],
                    help="an extension's .t vectors whose rules the 'vector' mutation uses (repeatable; "
                         "the meson test passes those of the extensions xdptables has)")
    ap.add_argument("--show", action="store_true", help="print each input and both sides' difference")
    ap.add_argument("--save-dir", help="write each disagreeing input there (NAME.in, flags in NAME.flags)")
    ap.add_argument("--stats", action="store_true", help="disagreements per mutator")
    ap.add_argument("--max-report", type=int, default=1, help="differences printed in full per class (default 1)")
    a = ap.parse_args()

    if os.geteuid() != 0:
        print("fuzz: skipped: needs root (network namespaces)")
        return 77
    if not os.path.isdir(os.path.join(a.vectors, "dumps")):
        print("fuzz: skipped: the iptables 1.8.9 conformance data is missing (%s; it lives beside the "
              "repository, ../shared/iptables-1.8.9-tests)" % a.vectors)
        return 77
    if not a.bindir:
        print("fuzz: --bindir (or XDPT_BINDIR) is needed")
        return 1
    a.bindir = os.path.abspath(a.bindir)
    dumps = load_dumps(a.vectors)
    VECTORS[:] = load_vectors(a.vector_file)

    cases = []  # (label, mutator, base, flags, data)
    nums = a.only if a.only else range(a.start, a.start + a.count)
    for i in nums:
        mut, base, flags, data = make_input(a.seed, i, dumps)
        cases.append(("%s:%d" % (a.seed, i), mut, base, flags, data))
    if not a.no_corpus and not a.only and os.path.isdir(a.corpus):
        for name in sorted(os.listdir(a.corpus)):
            if not name.endswith(".in"):
                continue
            with open(os.path.join(a.corpus, name), "rb") as f:
                data = f.read()
            # The restore's options: NAME.flags beside NAME.in, else none.
            flags = []
            fl = os.path.join(a.corpus, name[:-3] + ".flags")
            if os.path.exists(fl):
                with open(fl) as f:
                    flags = f.read().split()
            cases.append(("corpus/" + name, "corpus", name, flags, data))

    for name, reason, _ in EXCLUSIONS:
        print("fuzz: excluded from the verdict: %s: %s" % (name, reason))

    tag = "fuzz-%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="fuzz-")
    free = [(Side(False, "%s-%dr" % (tag, s), a.bindir, os.path.join(tmp, "lock%d" % s), a.fresh),
             Side(True, "%s-%dx" % (tag, s), a.bindir, os.path.join(tmp, "lock%d" % s), a.fresh))
            for s in range(a.jobs)]
    pairs = list(free)
    free_lock = threading.Lock()

    def one(case):
        with free_lock:
            ref_side, dut_side = free.pop()
        try:
            label, mut, base, flags, data = case
            return case, ref_side.outcome(flags, data), dut_side.outcome(flags, data)
        finally:
            with free_lock:
                free.append((ref_side, dut_side))

    def cleanup(*_):
        for r, d in pairs:
            r.close()
            d.close()
        shutil.rmtree(tmp, ignore_errors=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    t0 = time.monotonic()
    results = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            for r in ex.map(one, cases):
                results.append(r)
    finally:
        cleanup()

    fails, excl = [], []
    per_mut = {}
    per_sig = {}
    for case, ref, dut in results:
        label, mut, base, flags, data = case
        k = kinds_of(ref, dut)
        sts = [per_mut.setdefault(m, [0, 0]) for m in set(mut.split("+"))]
        for st in sts:
            st[0] += 1
        if a.show:
            print("=== %s (%s of %s, restore %s)" % (label, mut, base, " ".join(flags)))
            print(data.decode("utf-8", "replace")[:3000])
            print(show(ref, dut) if k else "(agree)")
        if not k:
            continue
        x = excluded(ref, dut)
        if x:
            excl.append((case, ref, dut, x))
            continue
        for st in sts:
            st[1] += 1
        fails.append((case, ref, dut, k))
        sig = signature(ref, dut, k)
        per_sig[sig] = per_sig.get(sig, 0) + 1
        if a.save_dir:
            os.makedirs(a.save_dir, exist_ok=True)
            fn = os.path.join(a.save_dir, label.replace("/", "_").replace(":", "_"))
            with open(fn + ".in", "wb") as f:
                f.write(data)
            with open(fn + ".flags", "w") as f:
                f.write(" ".join(flags) + "\n")

    shown = {}
    for case, ref, dut, k in fails:
        sig = signature(ref, dut, k)
        shown[sig] = shown.get(sig, 0) + 1
        if shown[sig] > a.max_report:
            continue
        label, mut, base, flags, data = case
        print("FAIL %s (%s of %s, restore %s): %s" % (label, mut, base, " ".join(flags) or "-", ", ".join(k)))
        print("    " + show(ref, dut).replace("\n", "\n    ")[:3000])
    if per_sig:
        print("fuzz: disagreements per class:")
        for sig, n in sorted(per_sig.items(), key=lambda x: -x[1]):
            print("  %5d  %s" % (n, sig))
    if a.stats:
        print("fuzz: per mutator (inputs it took part in, disagreements):")
        for m, (n, f) in sorted(per_mut.items()):
            print("  %-20s %5d %5d" % (m, n, f))
    for case, ref, dut, x in excl:
        print("fuzz: excluded (%s): %s" % (x, case[0]))
    crashes = sum(1 for f in fails if "crash" in f[3])
    hangs = sum(1 for f in fails if any(s.startswith("hang") for s in f[3]))
    print("fuzz: seed %s: %d inputs (%d corpus) in %.0f s: %d disagree (%d crashes, %d hangs), %d excluded" % (
        a.seed, len(results), sum(1 for c in cases if c[1] == "corpus"), time.monotonic() - t0, len(fails),
        crashes, hangs, len(excl)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
