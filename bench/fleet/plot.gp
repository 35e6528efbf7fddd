# Plots the per-bucket series of bench_fleet_refresh (bench/fleet/bench_fleet_refresh.cpp):
#   gnuplot -e "csv='build/bench/fleet-refresh.csv'; png='build/bench/fleet-refresh.png'" bench/fleet/plot.gp
# ./scripts/bench runs it after the benchmark (Debian's gnuplot-nox). The copy in
# docs/fleet-refresh.png is made from its output.
if (!exists("csv")) csv = 'fleet-refresh.csv'
if (!exists("png")) png = 'fleet-refresh.png'
set terminal pngcairo size 1200,820 font 'DejaVu Sans,10'
set output png
set datafile separator ','
set key top right
set grid ytics lc rgb '#dddddd'
set xrange [0:12]
set lmargin 12
set xtics 1
set style rect fc rgb '#f4cccc' fs solid 0.6 noborder
set object 1 rect from 6, graph 0 to 6+10.0/60, graph 1 behind
set style rect fc rgb '#e8f0fe' fs solid 0.6 noborder
set object 2 rect from 2, graph 0 to 6, graph 1 behind
set style rect fc rgb '#e6f4ea' fs solid 0.6 noborder
set object 3 rect from 6+10.0/60, graph 0 to 7, graph 1 behind
set multiplot layout 2,1 title "100,000 clients, 1-hour access tokens, all signed in at t = 0; token endpoint down 6 h – 6 h 10 min (503, Retry-After: 60)"
set title "With Keyloop's jitter (RefreshSchedule defaults)"
set ylabel 'token requests per 10 s'
set yrange [0:1400]
set label 1 "steady state\n[2 h, 6 h)" at 4, graph 0.9 center
set label 2 "outage" at 6.08, graph 0.96 center
set label 3 "recovery\n[6 h 10, 7 h)" at 6.6, graph 0.9 center
set label 4 "t = 0: 100,000 sign-ins (off the scale)" at 0.1, graph 0.96 left
plot csv using ($1/3600.0):2 every ::1 with steps lc rgb '#1a73e8' title 'with jitter'
unset label 4
set title "Without jitter (jitterFraction 0, no random source): every client in step"
set xlabel 'simulated hours'
set logscale y
set yrange [1:200000]
set label 1 "steady state\n[2 h, 6 h)" at 4, graph 0.5 center
plot csv using ($1/3600.0):($3 > 0 ? $3 : 1/0) every ::1 with impulses lc rgb '#d93025' lw 2 title 'without jitter (log scale)'
unset multiplot
