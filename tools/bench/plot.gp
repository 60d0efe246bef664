# Plots of the benchmark suite: gnuplot -e "outdir='DIR'; machine='...'" plot.gp
# (reads DIR/droprate.csv).
set datafile separator ","
set terminal pngcairo size 960,640 font ",11"
set logscale x
set key below
set grid
set xlabel "rules before the matching rule (N)"
set format x "10^{%L}"

set output outdir."/droprate.png"
set title "Drop rate of a 64-byte UDP flood over veth\n{/*0.8 ".machine."}"
set ylabel "packets per second"
set logscale y
set format y "%.0s%c"
plot outdir."/droprate.csv" using 1:2 skip 1 with linespoints lw 2 title "XDP\\_DROP floor", \
     "" using 1:5 skip 1 with linespoints lw 2 title "xdptables", \
     "" using 1:3 skip 1 with linespoints lw 2 title "iptables-legacy", \
     "" using 1:4 skip 1 with linespoints lw 2 title "iptables-nft"

set output outdir."/nspp.png"
set title "Cost per packet: whole path (1/drop rate) and BPF\\_PROG\\_TEST\\_RUN\n{/*0.8 ".machine."}"
set ylabel "ns per packet"
set format y "10^{%L}"
plot outdir."/droprate.csv" using 1:(1e9/$2) skip 1 with linespoints lw 2 title "floor, flood (1/rate)", \
     "" using 1:(1e9/$5) skip 1 with linespoints lw 2 title "xdptables, flood (1/rate)", \
     "" using 1:(1e9/$3) skip 1 with linespoints lw 2 title "iptables-legacy, flood (1/rate)", \
     "" using 1:(1e9/$4) skip 1 with linespoints lw 2 title "iptables-nft, flood (1/rate)", \
     "" using 1:8 skip 1 with linespoints lw 2 dt 2 title "floor program, test-run", \
     "" using 1:6 skip 1 with linespoints lw 2 dt 2 title "xdptables last rule, test-run", \
     "" using 1:7 skip 1 with linespoints lw 2 dt 2 title "xdptables random mix, test-run"
