set terminal pngcairo size 1500,820 noenhanced font ",10"
set output 'app.png'
set multiplot layout 2,3 title "iommu_sva: N CPU threads freeing page tables under SVA (2 CPUs; medians, bars = IQR; circles: oversubscribed, squares: frame-bound; targets judged only on unmarked rows)"
set logscale x 2
set xrange [0.7:40]
set xlabel "CPU threads"
set key top left
set grid
set title "map+unmap per second (all threads)"
plot 'app_plot.dat' u 1:2:3:4 w yerrorlines t 'v5', '' u 1:5:6:7 w yerrorlines t 'pgfree (take-back)', '' u 1:23 w lp dt 3 t 'pgfree_release', '' u 1:8 w lp t 'none (the bug)', '' u 1:19 w p pt 6 ps 3 lc rgb 'black' t 'oversubscribed', '' u 1:20 w p pt 6 ps 3 lc rgb 'black' notitle, '' u 1:21 w p pt 4 ps 2.5 lc rgb 'red' t 'frame-bound', '' u 1:22 w p pt 4 ps 2.5 lc rgb 'red' notitle
set title "runnable threads (CPU threads + devices + worker/drain)"
plot 'app_plot.dat' u 1:13 w lp t 'v5', '' u 1:14 w lp t 'pgfree', 2 w l dt 2 lc rgb 'black' t '2 CPUs'
set title "CPU threads waiting for free frames (% of their time)"
plot 'app_plot.dat' u 1:15 w lp t 'v5', '' u 1:16 w lp t 'pgfree', 5 w l dt 2 lc rgb 'black' t '5%'
set title "flushes per 1000 tables freed"
plot 'app_plot.dat' u 1:9 w lp t 'v5', '' u 1:10 w lp t 'pgfree'
set title "unlink-to-reuse p99 (ms)"
set logscale y
plot 'app_plot.dat' u 1:($11/1000) w lp t 'v5', '' u 1:($12/1000) w lp t 'pgfree'
unset logscale y
set title "per free (ns): worker/drain CPU; take-back wall"
plot 'app_plot.dat' u 1:17 w lp t 'v5 worker', '' u 1:18 w lp t 'pgfree drain', '' u 1:24 w lp dt 3 t 'pgfree_release drain', '' u 1:25 w lp dt 2 t 'pgfree take-back (CPU threads)'
unset multiplot
