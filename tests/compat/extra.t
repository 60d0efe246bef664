# Rules for tests/compat/xt.sh beyond iptables' own vectors: the targets and matches
# iptables 1.8.9 ships no vector for here (CT, NOTRACK, CHECKSUM, TCPMSS, the nat targets,
# sctp) and the fields of every
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
:POSTROUTING,INPUT
# A shifted port range in a revision 0 target (SNAT, MASQUERADE) keeps only its flag and
# is saved as ".../0", which no restore takes: xt.sh then loads its batch rule by rule.
-j SNAT --to-source 198.18.0.1;=;OK
-j SNAT --to-source 198.18.0.1-198.18.0.10 --random --random-fully --persistent;=;OK
-p tcp -j SNAT --to-source 198.18.0.1:1024-65535;=;OK
-p udp -j SNAT --to-source 198.18.0.1-198.18.0.3:53 --persistent;=;OK
-p sctp -j SNAT --to-source :1000 --random;=;OK
-p icmp -j SNAT --to-source 198.18.0.5:7;=;OK
-p tcp -j SNAT --to-source 198.18.0.1:1-2/3;-p tcp -j SNAT --to-source 198.18.0.1:1-2/0;OK
:PREROUTING,OUTPUT
-j DNAT --to-destination 198.18.0.2;=;OK
-j DNAT --to-destination 198.18.0.2-198.18.0.4 --random --persistent;=;OK
-p tcp --dport 80 -j DNAT --to-destination 198.18.0.2:8080;=;OK
-p tcp -j DNAT --to-destination 198.18.0.2:1000-2000/3000;=;OK
-p dccp -j DNAT --to-destination 198.18.0.2-198.18.0.9:1000-2000/65535;=;OK
-p udp -j DNAT --to-destination :53;=;OK
-j REDIRECT;=;OK
-j REDIRECT --random;=;OK
-p tcp -j REDIRECT --to-ports 8080;=;OK
-p udp -j REDIRECT --to-ports 5353-5400 --random;=;OK
:POSTROUTING
-j MASQUERADE;=;OK
-j MASQUERADE --random --random-fully;=;OK
-p tcp -j MASQUERADE --to-ports 1024;=;OK
-p udp -j MASQUERADE --to-ports 1024-65535 --random;=;OK
-p udp -j MASQUERADE --to-ports 10-20/30;-p udp -j MASQUERADE --to-ports 10-20/0;OK
:PREROUTING,INPUT,OUTPUT,POSTROUTING
-j NETMAP --to 198.18.8.0/24;=;OK
-j NETMAP --to 198.18.9.1/32;=;OK
-d 198.18.7.0/24 -j NETMAP --to 198.18.0.0/15;=;OK
-p sctp -m sctp --dport 7 -j NETMAP --to 198.18.0.0/16;=;OK
*filter
:INPUT,FORWARD,OUTPUT
-p sctp -m sctp --sport 1;=;OK
-p sctp -m sctp --sport 1:65535 ! --dport 80;=;OK
-p sctp -m sctp ! --sport 10:20 --dport 0:65535;=;OK
-p sctp -m sctp --chunk-types all DATA,INIT;=;OK
-p sctp -m sctp --chunk-types any DATA:IUbe,ABORT:T,SHUTDOWN_COMPLETE:t;=;OK
-p sctp -m sctp ! --chunk-types only INIT_ACK,SACK,HEARTBEAT,HEARTBEAT_ACK,SHUTDOWN,SHUTDOWN_ACK,ERROR,COOKIE_ECHO,COOKIE_ACK,ECN_ECNE,ECN_CWR;=;OK
-p sctp -m sctp --chunk-types any I_DATA,RE_CONFIG,PAD,ASCONF,ASCONF_ACK,FORWARD_TSN,I_FORWARD_TSN;=;OK
-p sctp -m sctp --chunk-types only ALL;=;OK
-p sctp -m sctp --chunk-types all NONE;=;OK
-p sctp -m sctp --sport 5 --dport 6 ! --chunk-types any DATA:E,ABORT:T,SHUTDOWN_COMPLETE:T;=;OK
-p sctp -m sctp --chunk-types any DATA:I,ABORT:T,SHUTDOWN_COMPLETE:T,I_DATA:B;-p sctp -m sctp --chunk-types any DATA:I,ABORT:T,SHUTDOWN_COMPLETE:T,I_DATA;OK
# recent and hashlimit: what the vectors leave out (mask, rdest, inversion, reap, TTL;
# byte rates, masks, table sizes, rate-match periods)
-m recent ! --rcheck --seconds 10 --reap --hitcount 3 --rttl --name a_b --mask 255.255.0.0 --rdest;=;OK
-m recent --remove --name ab --mask 255.255.255.255 --rsource;=;OK
-m hashlimit --hashlimit-above 10/min --hashlimit-burst 20 --hashlimit-mode srcip,dstport --hashlimit-name b --hashlimit-srcmask 24 --hashlimit-dstmask 16;=;OK
-m hashlimit --hashlimit-upto 7/day --hashlimit-burst 5 --hashlimit-name d --hashlimit-htable-size 100 --hashlimit-htable-max 200 --hashlimit-htable-gcinterval 500 --hashlimit-htable-expire 3000;=;OK
-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name rm --hashlimit-htable-expire 60000 --hashlimit-rate-match --hashlimit-rate-interval 7;=;OK
-m hashlimit --hashlimit-above 1kb/s --hashlimit-burst 2kb --hashlimit-mode srcip,srcport,dstip,dstport --hashlimit-name i;=;OK
