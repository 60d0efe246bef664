# gen.py N KIND: a filter ruleset of N user chains for tests/bats/chains.bats.
# nested-nf: INPUT -> C0 -> ... -> C(N-1), RETURNs (by source, by port) in the middle,
# REJECT behind -m limit and NFLOG, which only netfilter judges; nested-xdp: the same
# without them (XDP decides it); double: each chain jumps twice to the next.
import sys
n = int(sys.argv[1]); kind = sys.argv[2]  # nested-nf | nested-xdp | double
print('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]')
for i in range(n): print(f':C{i} - [0:0]')
print('-A INPUT -p udp -j C0')
for i in range(n):
    c = f'C{i}'
    if kind == 'double':
        print(f'-A {c} -p udp -m udp --dport {1000+i} -j DROP')
        if i < n - 1:
            print(f'-A {c} -p udp -j C{i+1}')
            print(f'-A {c} -s 127.0.0.2/32 -j C{i+1}')
        else:
            print(f'-A {c} -p udp -m udp --dport 2000 -j REJECT --reject-with icmp-host-prohibited')
        continue
    print(f'-A {c} -p udp -m udp --dport {1000+i} -j DROP')
    if i % 3 == 1: print(f'-A {c} -s 127.0.0.{2+i}/32 -j RETURN')
    if i % 4 == 2: print(f'-A {c} -p udp -m udp --dport {3000+i} -j RETURN')
    if kind == 'nested-nf' and i % 5 == 3:
        print(f'-A {c} -p udp -m udp --dport {4000+i} -m limit --limit 1/hour --limit-burst 2 -j REJECT')
    if i < n - 1: print(f'-A {c} -j C{i+1}')
    elif kind == 'nested-nf': print(f'-A {c} -p udp -m udp --dport 5000 -j NFLOG --nflog-group 7')
    print(f'-A {c} -p udp -m udp --dport {2000+i} -j DROP')
print('COMMIT')
