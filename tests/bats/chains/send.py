# send.py N [double]: datagrams from sources and to ports that meet every rule of gen.py's
# rulesets of N chains, three of each (to 127.0.0.1, from 127.0.0.x).
import socket, sys
n = int(sys.argv[1])
if len(sys.argv) > 2:
    pairs = [('127.0.0.1', 1005), ('127.0.0.2', 2000), ('127.0.0.1', 2000), ('127.0.0.3', 1020),
             ('127.0.0.1', 9), ('127.0.0.2', 9)]
else:
    ports = [9999, 5000] + [b + i for i in range(n) for b in (1000, 2000, 3000, 4000)]
    srcs = ['127.0.0.1', '127.0.0.3', '127.0.0.4'] + [f'127.0.0.{2 + i}' for i in range(n) if i % 3 == 1]
    pairs = [(s, p) for s in srcs for p in ports]
for src, port in pairs:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for _ in range(1 if len(sys.argv) > 2 else 3):
        s.sendto(b'x' * 10, ('127.0.0.1', port))
    s.close()
