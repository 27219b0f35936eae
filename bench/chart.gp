# Bar chart of bench/results/latest.json: per workload, ns per operation of
# netstack-c, gVisor's netstack and lwIP (log scale, lower is better).
# bench/chart.sh turns the JSON into the data file this reads; run it as
#   gnuplot -e "data='FILE'; out='bench/results/latest.svg'" bench/chart.gp
set terminal svg size 960,480 dynamic font "Helvetica,12" background rgb "white"
set output out
set title "netstack-c vs gVisor netstack vs lwIP: time per operation (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set ylabel "ns per operation (median, log scale)"
set yrange [1:*]
set grid ytics
set key top left
set xtics rotate by -30 nomirror
set datafile missing "NaN"
plot data using 2:xtic(1) title "netstack-c" lc rgb "#3366cc", \
     ''   using 3 title "gVisor netstack" lc rgb "#cc6600", \
     ''   using 4 title "lwIP" lc rgb "#22aa77"
