# Rules for tests/compat/xt.sh beyond iptables' own vectors: the targets iptables 1.8.9
# ships no vector for here (CT, NOTRACK, CHECKSUM, TCPMSS) and the fields of every
# extension's kernel structure the vectors leave at zero. Same format as iptables' .t
# files; only OK lines are read.
:INPUT,FORWARD,OUTPUT
-m conntrack ! --ctstate NEW,DNAT -m conntrack --ctorigsrc 10.1.2.3/8 --ctrepldst 192.168.1.1/255.255.0.255;=;OK
-p tcp -m conntrack --ctproto tcp --ctorigsrcport 1000:2000 --ctorigdstport 80 --ctreplsrcport 443 --ctrepldstport 1:2;=;OK
-m conntrack --ctexpire 10:20 --ctdir REPLY --ctstatus ASSURED,SEEN_REPLY --ctorigdst 1.2.3.0/24 --ctreplsrc 4.3.2.1;=;OK
-m conntrack ! --ctproto udp ! --ctorigsrc 1.2.3.4 ! --ctexpire 5 ! --ctstatus EXPECTED ! --ctrepldstport 53;=;OK
-m state ! --state ESTABLISHED,RELATED;=;OK
-m state --state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED;=;OK
-p tcp -m multiport ! --dports 1:2,5,7:9;=;OK
-p udp -m multiport --sports 53;=;OK
-p tcp -m multiport ! --ports 1,2,3,4,5,6,7,8,9,10,11,12,13:14;=;OK
-m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 192.168.0.0-192.168.255.255;=;OK
-m iprange ! --src-range 10.0.0.1-10.0.0.1;=;OK
-m length ! --length 100:200;=;OK
-m length --length 1500;=;OK
-m ttl --ttl-lt 5;=;OK
-m ttl ! --ttl-eq 9;=;OK
-m ttl --ttl-gt 200;=;OK
-m limit --limit 7/minute --limit-burst 20;=;OK
-m limit --limit 10000/sec --limit-burst 10000;=;OK
-m comment --comment "two words";=;OK
-m mark ! --mark 0x10/0xf0;=;OK
-p icmp -m icmp ! --icmp-type 3/1;=;OK
-p tcp -m tcp ! --sport 1:1023 ! --dport 22 ! --tcp-option 2 ! --tcp-flags SYN,ACK,FIN SYN;=;OK
-p udp -m udp ! --sport 53 --dport 1000:2000;=;OK
-j LOG --log-level 7 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode;=;OK
-j LOG --log-prefix "thirty characters are the most";=;OK
-j NFLOG --nflog-prefix "p x" --nflog-group 3 --nflog-size 128 --nflog-threshold 2;=;OK
-p tcp -j REJECT --reject-with tcp-reset;=;OK
-j REJECT --reject-with icmp-admin-prohibited;=;OK
:INPUT,FORWARD
-m mac ! --mac-source 00:11:22:aa:bb:cc;=;OK
*mangle
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
-j MARK --set-mark 0x5;=;OK
-j MARK --set-mark 0x1/0xff;=;OK
-j MARK --and-mark 0xff;=;OK
-j MARK --or-mark 0x100;=;OK
-j MARK --xor-mark 0x3;=;OK
-m mark --mark 0x1 -j MARK --set-xmark 0x2/0x3;=;OK
:PREROUTING,FORWARD,POSTROUTING
-j CHECKSUM --checksum-fill;=;OK
-p udp --dport 68 -j CHECKSUM --checksum-fill;=;OK
:FORWARD,OUTPUT,POSTROUTING
-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --set-mss 1400;=;OK
-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 0;=;OK
-p tcp --syn -j TCPMSS --clamp-mss-to-pmtu;=;OK
*raw
:PREROUTING,OUTPUT
-j CT --notrack;=;OK
-j NOTRACK;=;OK
-j CT --notrack --zone 3;=;OK
-j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark;=;OK
-j CT --expevents new;=;OK
-j CT --zone 65535;=;OK
-j CT --zone mark;=;OK
-j CT --zone-orig 7;=;OK
-j CT --zone-reply mark;=;OK
-p tcp --dport 21 -j CT --helper ftp;=;OK
-p udp --dport 69 -j CT --helper tftp --zone 2;=;OK
-p udp -m conntrack --ctstate UNTRACKED -j ACCEPT;=;OK
*nat
:PREROUTING,INPUT,OUTPUT,POSTROUTING
-p tcp --dport 80 -m conntrack --ctstate NEW -m comment --comment web;=;OK
