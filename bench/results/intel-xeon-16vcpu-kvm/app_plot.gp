set terminal pngcairo size 1200,450 noenhanced font ",10"
set output 'app.png'
set multiplot layout 1,3 title "iommu_sva: N CPU threads freeing page tables under SVA (16 CPUs; N > 16 oversubscribed; medians, bars = IQR)"
set logscale x 2
set xrange [0.7:23]
set xlabel "CPU threads"
set key top left
set grid
set title "map+unmap per second (all threads)"
set arrow from 16.5,graph 0 to 16.5,graph 1 nohead dt 2
plot 'app_plot.dat' u 1:2:3:4 w yerrorlines t 'v5', '' u 1:5:6:7 w yerrorlines t 'pgfree', '' u 1:8 w lp t 'none (the bug)'
set title "flushes per 1000 tables freed"
plot 'app_plot.dat' u 1:9 w lp t 'v5', '' u 1:10 w lp t 'pgfree'
set title "unlink-to-reuse p99 (us)"
plot 'app_plot.dat' u 1:11 w lp t 'v5', '' u 1:12 w lp t 'pgfree'
unset multiplot
