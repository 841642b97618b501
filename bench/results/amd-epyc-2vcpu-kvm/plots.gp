
set terminal pngcairo size 1000,650 noenhanced font ",10"
set linetype 1 lc rgb '#888888' lw 2 dt 2
set linetype 2 lc rgb '#000000' lw 3
set linetype 3 lc rgb '#d62728' lw 2
set linetype 4 lc rgb '#ff7f0e' lw 2
set linetype 5 lc rgb '#bcbd22' lw 2
set linetype 6 lc rgb '#1f77b4' lw 2
set linetype 7 lc rgb '#2ca02c' lw 2
set linetype 8 lc rgb '#17becf' lw 2
set linetype 9 lc rgb '#9467bd' lw 2
set linetype 10 lc rgb '#8c564b' lw 2
set key outside right
set grid
set output 'bench/results/amd-epyc-2vcpu-kvm/enqueue.png'
set title 'enqueue: ns per defer per producer thread (median; lower is better)'
set xlabel 'producer threads'
set ylabel 'ns per defer per thread'
set logscale xy 2
plot for [i=2:11] 'bench/results/amd-epyc-2vcpu-kvm/enqueue.dat' using 1:i with linespoints lt (i-1) title columnheader(i)
unset logscale
set output 'bench/results/amd-epyc-2vcpu-kvm/end_to_end.png'
set title 'end to end: descriptors deferred and released per second vs flush cost'
set xlabel 'simulated flush cost (ns)'
set ylabel 'million descriptors per second'
set logscale y
set xtics (0, 1000, 10000)
plot for [i=2:10] 'bench/results/amd-epyc-2vcpu-kvm/end_to_end.dat' using 1:i with linespoints lt (i) title columnheader(i)
unset logscale
set xtics autofreq
set output 'bench/results/amd-epyc-2vcpu-kvm/latency.png'
set title 'defer-to-release latency at a steady 50k/s (one producer)'
set ylabel 'microseconds'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set xtics rotate by -30
plot 'bench/results/amd-epyc-2vcpu-kvm/latency.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'max'
