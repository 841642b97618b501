set terminal pngcairo size 1100,650 noenhanced font ',10'
set key outside right
set grid
set linetype 1 lc rgb '#000000' lw 2 dt 1 pt 1
set linetype 2 lc rgb '#d62728' lw 2 dt 1 pt 2
set linetype 3 lc rgb '#1f77b4' lw 2 dt 1 pt 3
set linetype 4 lc rgb '#2ca02c' lw 2 dt 1 pt 4
set linetype 5 lc rgb '#ff7f0e' lw 2 dt 1 pt 5
set linetype 6 lc rgb '#9467bd' lw 2 dt 1 pt 6
set linetype 7 lc rgb '#8c564b' lw 2 dt 1 pt 7
set linetype 8 lc rgb '#e377c2' lw 2 dt 1 pt 8
set linetype 9 lc rgb '#7f7f7f' lw 2 dt 1 pt 9
set linetype 10 lc rgb '#bcbd22' lw 2 dt 1 pt 10
set linetype 11 lc rgb '#17becf' lw 2 dt 1 pt 11
set linetype 12 lc rgb '#aec7e8' lw 2 dt 1 pt 12
set linetype 13 lc rgb '#98df8a' lw 2 dt 1 pt 13
set linetype 14 lc rgb '#ff9896' lw 2 dt 1 pt 1
set linetype 15 lc rgb '#c5b0d5' lw 2 dt 1 pt 2
set linetype 16 lc rgb '#c49c94' lw 2 dt 1 pt 3
set linetype 17 lc rgb '#000000' lw 2 dt 2 pt 4
set linetype 18 lc rgb '#d62728' lw 2 dt 2 pt 5
set linetype 19 lc rgb '#1f77b4' lw 2 dt 2 pt 6
set linetype 20 lc rgb '#2ca02c' lw 2 dt 2 pt 7
set linetype 21 lc rgb '#ff7f0e' lw 2 dt 2 pt 8
set linetype 22 lc rgb '#9467bd' lw 2 dt 2 pt 9
set linetype 23 lc rgb '#8c564b' lw 2 dt 2 pt 10
set linetype 24 lc rgb '#e377c2' lw 2 dt 2 pt 11
set linetype 25 lc rgb '#7f7f7f' lw 2 dt 2 pt 12
set linetype 26 lc rgb '#bcbd22' lw 2 dt 2 pt 13
set linetype 27 lc rgb '#17becf' lw 2 dt 2 pt 1
set linetype 28 lc rgb '#aec7e8' lw 2 dt 2 pt 2
set linetype 29 lc rgb '#98df8a' lw 2 dt 2 pt 3
set linetype 30 lc rgb '#ff9896' lw 2 dt 2 pt 4
set linetype 31 lc rgb '#c5b0d5' lw 2 dt 2 pt 5
set linetype 32 lc rgb '#c49c94' lw 2 dt 2 pt 6
set output 'bench/results/amd-epyc-2vcpu-kvm/enqueue_delay.png'
set title 'enqueue, policy delay: producer-side rate (median; shaded, oversubscribed: sustained) (more producers than CPUs; not judged)'
set xlabel 'producer threads'
set ylabel 'M descriptors / s'
set logscale xy 2
set xrange [0.8:24]
unset object
set object 1 rect from 2.5, graph 0 to 24, graph 1 fc rgb '#eeeeee' fs solid 1.0 behind
set label 1 'oversubscribed' at 2.7, graph 0.95
plot for [i=2:21] 'bench/results/amd-epyc-2vcpu-kvm/enqueue_delay.dat' using 1:i with linespoints lt (i-1) title columnheader(i)
unset label 1
unset object 1
unset logscale
set autoscale x
set output 'bench/results/amd-epyc-2vcpu-kvm/enqueue_nodelay.png'
set title 'enqueue, policy nodelay: producer-side rate (median; shaded, oversubscribed: sustained) (more producers than CPUs; not judged)'
set xlabel 'producer threads'
set ylabel 'M descriptors / s'
set logscale xy 2
set xrange [0.8:24]
unset object
set object 1 rect from 2.5, graph 0 to 24, graph 1 fc rgb '#eeeeee' fs solid 1.0 behind
set label 1 'oversubscribed' at 2.7, graph 0.95
plot for [i=2:21] 'bench/results/amd-epyc-2vcpu-kvm/enqueue_nodelay.dat' using 1:i with linespoints lt (i-1) title columnheader(i)
unset label 1
unset object 1
unset logscale
set autoscale x
set output 'bench/results/amd-epyc-2vcpu-kvm/end_to_end.png'
set title 'end to end (one producer per CPU, not oversubscribed): M descriptors deferred and released / s (median)'
set xlabel 'simulated flush cost (ns)'
set ylabel 'M descriptors / s'
set logscale y
set xtics (0, 1000, 10000)
plot for [i=2:35] 'bench/results/amd-epyc-2vcpu-kvm/end_to_end.dat' using 1:i with linespoints lt (i-1) title columnheader(i)
unset logscale
set xtics autofreq
set output 'bench/results/amd-epyc-2vcpu-kvm/latency.png'
set title 'defer-to-release latency at a steady 50k/s (one producer; medians)'
set xlabel ''
set ylabel 'microseconds'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set xtics rotate by -45
plot 'bench/results/amd-epyc-2vcpu-kvm/latency.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'max'
