// Command report prints the results of bench/load.sh as Markdown tables.
// They show the median of the runs of each data set size, target and
// concurrency level, the ratio of credprops to its ceiling, and the growth
// from the smallest data set to the largest.
//
// Usage: report MACHINE_FILE RESULTS_TSV
package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// run is one row of the results file.
type run struct {
	size, target  string
	conns, run    int
	requests      float64
	durationUS    float64
	p50, p99      float64 // microseconds
	p999          float64 // microseconds
	failures      int     // socket errors and non-2xx responses
	peakRSSKiB    float64 // 0 when not measured
	hasPeakMemory bool
}

func (r run) throughput() float64 { return r.requests / (r.durationUS / 1e6) }

type key struct {
	size, target string
	conns        int
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: report MACHINE_FILE RESULTS_TSV")
		os.Exit(2)
	}
	machine, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	runs, err := readResults(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}

	groups := map[key][]run{}
	var sizes []string
	var levels []int
	for _, r := range runs {
		k := key{r.size, r.target, r.conns}
		groups[k] = append(groups[k], r)
		if !slices.Contains(sizes, r.size) {
			sizes = append(sizes, r.size)
		}
		if !slices.Contains(levels, r.conns) {
			levels = append(levels, r.conns)
		}
	}

	fmt.Printf("Machine:\n\n```\n%s```\n\n", machine)
	printThroughput(groups, sizes, levels)
	printLatency(groups, sizes, levels)
	printGrowth(groups, sizes, levels)
}

func readResults(path string) ([]run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	rd := csv.NewReader(f)
	rd.Comma = '\t'
	if _, err := rd.Read(); err != nil { // the header
		return nil, fmt.Errorf("read %s: %w", path, err)
	}

	var runs []run
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return runs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		r, err := parseRun(rec)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		runs = append(runs, r)
	}
}

func parseRun(rec []string) (run, error) {
	if len(rec) != 12 {
		return run{}, fmt.Errorf("row %q has %d fields, want 12", strings.Join(rec, "\t"), len(rec))
	}
	nums := make([]float64, 12)
	for i := 2; i < 12; i++ {
		if i == 11 && rec[i] == "-" {
			continue
		}
		v, err := strconv.ParseFloat(rec[i], 64)
		if err != nil {
			return run{}, fmt.Errorf("row %q: field %d: %w", strings.Join(rec, "\t"), i+1, err)
		}
		nums[i] = v
	}
	return run{
		size: rec[0], target: rec[1],
		conns: int(nums[2]), run: int(nums[3]),
		requests: nums[4], durationUS: nums[5],
		p50: nums[6], p99: nums[7], p999: nums[8],
		failures:      int(nums[9] + nums[10]),
		peakRSSKiB:    nums[11],
		hasPeakMemory: rec[11] != "-",
	}, nil
}

func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func collect(runs []run, f func(run) float64) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// spread formats the median throughput with the range of the runs.
func spread(runs []run) string {
	t := collect(runs, run.throughput)
	if len(t) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", median(t), slices.Min(t), slices.Max(t))
}

// pairedRatio returns the median of the ratios of the runs of a to the runs
// of b with the same run number, which ran one after the other.
func pairedRatio(a, b []run) string {
	var ratios []float64
	for _, ra := range a {
		for _, rb := range b {
			if ra.run == rb.run && rb.throughput() > 0 {
				ratios = append(ratios, ra.throughput()/rb.throughput())
			}
		}
	}
	if len(ratios) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", median(ratios))
}

func printThroughput(groups map[key][]run, sizes []string, levels []int) {
	fmt.Println("Throughput in requests (or transactions) per second: median of the runs, (min–max).")
	fmt.Println("Ratios are medians of run-by-run ratios to the ceiling run next to it.")
	fmt.Println()
	fmt.Println("| values | clients | credprops GET | Echo ceiling | GET/ceiling | credprops PATCH | SQLite ceiling | PATCH/ceiling |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, size := range sizes {
		for _, c := range levels {
			get := groups[key{size, "credprops-get", c}]
			echo := groups[key{size, "echo-ceiling", c}]
			patch := groups[key{size, "credprops-patch", c}]
			sqlite := groups[key{size, "sqlite-ceiling", c}]
			fmt.Printf("| %s | %d | %s | %s | %s | %s | %s | %s |\n", size, c,
				spread(get), spread(echo), pairedRatio(get, echo),
				spread(patch), spread(sqlite), pairedRatio(patch, sqlite))
		}
	}
	fmt.Println()
}

func ms(us float64) string { return fmt.Sprintf("%.2f", us/1000) }

func printLatency(groups map[key][]run, sizes []string, levels []int) {
	fmt.Println("Latency of credprops in ms (medians of the runs), the server's peak")
	fmt.Println("resident memory (VmHWM, largest of the runs) and failed requests (sum).")
	fmt.Println()
	fmt.Println("| values | clients | request | p50 | p99 | p99.9 | peak RSS MiB | failed |")
	fmt.Println("|---:|---:|---|---:|---:|---:|---:|---:|")
	for _, size := range sizes {
		for _, c := range levels {
			for _, target := range []string{"credprops-get", "credprops-patch"} {
				runs := groups[key{size, target, c}]
				if len(runs) == 0 {
					continue
				}
				failed := 0
				var rss []float64
				for _, r := range runs {
					failed += r.failures
					if r.hasPeakMemory {
						rss = append(rss, r.peakRSSKiB)
					}
				}
				peak := "-"
				if len(rss) > 0 {
					peak = fmt.Sprintf("%.0f", slices.Max(rss)/1024)
				}
				fmt.Printf("| %s | %d | %s | %s | %s | %s | %s | %d |\n", size, c,
					strings.ToUpper(strings.TrimPrefix(target, "credprops-")),
					ms(median(collect(runs, func(r run) float64 { return r.p50 }))),
					ms(median(collect(runs, func(r run) float64 { return r.p99 }))),
					ms(median(collect(runs, func(r run) float64 { return r.p999 }))),
					peak, failed)
			}
		}
	}
	fmt.Println()
}

func printGrowth(groups map[key][]run, sizes []string, levels []int) {
	if len(sizes) < 2 {
		return
	}
	small, large := sizes[0], sizes[len(sizes)-1]
	fmt.Printf("Growth: median throughput with %s values divided by the median with %s.\n\n", large, small)
	fmt.Println("| clients | GET | PATCH | SQLite ceiling |")
	fmt.Println("|---:|---:|---:|---:|")
	for _, c := range levels {
		var cells []string
		for _, target := range []string{"credprops-get", "credprops-patch", "sqlite-ceiling"} {
			a := median(collect(groups[key{large, target, c}], run.throughput))
			b := median(collect(groups[key{small, target, c}], run.throughput))
			if b == 0 {
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.2f", a/b))
		}
		fmt.Printf("| %d | %s |\n", c, strings.Join(cells, " | "))
	}
	fmt.Println()
}
