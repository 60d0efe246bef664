iptables -w 5 -W 100000 -N KUBE-EXTERNAL-SERVICES -t filter
iptables -w 5 -W 100000 -C INPUT -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES || iptables -w 5 -W 100000 -I INPUT -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
iptables -w 5 -W 100000 -N KUBE-NODEPORTS -t filter
iptables -w 5 -W 100000 -C INPUT -t filter -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS || iptables -w 5 -W 100000 -I INPUT -t filter -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
iptables -w 5 -W 100000 -N KUBE-SERVICES -t filter
iptables -w 5 -W 100000 -C FORWARD -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES || iptables -w 5 -W 100000 -I FORWARD -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables -w 5 -W 100000 -C OUTPUT -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES || iptables -w 5 -W 100000 -I OUTPUT -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables -w 5 -W 100000 -N KUBE-FORWARD -t filter
iptables -w 5 -W 100000 -C FORWARD -t filter -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD || iptables -w 5 -W 100000 -I FORWARD -t filter -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
iptables -w 5 -W 100000 -N KUBE-PROXY-FIREWALL -t filter
iptables -w 5 -W 100000 -C INPUT -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL || iptables -w 5 -W 100000 -I INPUT -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
iptables -w 5 -W 100000 -C OUTPUT -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL || iptables -w 5 -W 100000 -I OUTPUT -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
iptables -w 5 -W 100000 -C FORWARD -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL || iptables -w 5 -W 100000 -I FORWARD -t filter -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL
iptables -w 5 -W 100000 -N KUBE-FIREWALL -t filter
iptables -w 5 -W 100000 -C INPUT -t filter -j KUBE-FIREWALL || iptables -w 5 -W 100000 -I INPUT -t filter -j KUBE-FIREWALL
iptables -w 5 -W 100000 -C OUTPUT -t filter -j KUBE-FIREWALL || iptables -w 5 -W 100000 -I OUTPUT -t filter -j KUBE-FIREWALL
iptables -w 5 -W 100000 -N KUBE-SERVICES -t nat
iptables -w 5 -W 100000 -C OUTPUT -t nat -m comment --comment "kubernetes service portals" -j KUBE-SERVICES || iptables -w 5 -W 100000 -I OUTPUT -t nat -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables -w 5 -W 100000 -C PREROUTING -t nat -m comment --comment "kubernetes service portals" -j KUBE-SERVICES || iptables -w 5 -W 100000 -I PREROUTING -t nat -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
iptables -w 5 -W 100000 -N KUBE-POSTROUTING -t nat
iptables -w 5 -W 100000 -C POSTROUTING -t nat -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING || iptables -w 5 -W 100000 -I POSTROUTING -t nat -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
