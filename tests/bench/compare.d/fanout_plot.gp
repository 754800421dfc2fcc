# Fan-out throughput against subscriber count, streams-engine (twilsock) vs mosquitto (MQTT QoS 0).
# gnuplot -e "data='FILE'; out='PNG'; subtitle='...'" fanout_plot.gp
# FILE columns: subscribers engine_median engine_min engine_max mosquitto_median mosquitto_min mosquitto_max
if (!exists("subtitle")) subtitle = ""
set terminal pngcairo size 900,560 font "DejaVu Sans,11"
set output out
set title "Fan-out at saturation: 1 publisher, N subscribers, 200-byte messages, loopback\n{/*0.8 ".subtitle."}"
set xlabel "subscribers"
set ylabel "deliveries per second"
set logscale x
set xtics ("10" 10, "100" 100, "1,000" 1000)
set xrange [7:1400]
set yrange [0:*]
set format y "%.0s%c"
set grid ytics
set key center right box opaque
set style data linespoints
plot data using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" title "streams-engine (twilsock)", \
     data using 1:5:6:7 with yerrorlines lw 2 pt 5 lc rgb "#d62728" title "mosquitto (MQTT QoS 0)"
