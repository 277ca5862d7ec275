package main

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// chart draws the timeline as an SVG: queue length on top, latency (p50 and
// p95 of each sample window) below, both against model time.
func chart(o *options, r *Result) string {
	const (
		width, height = 900, 560
		left, right   = 70, 30
		panelH        = 200
		top1, top2    = 60, 320
	)
	plotW := float64(width - left - right)
	total := o.cfg.Duration
	x := func(at time.Duration) float64 { return left + plotW*float64(at)/float64(total) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="16" font-weight="bold">%s</text>`+"\n", left,
		html.EscapeString(fmt.Sprintf("tock-demo: %v of traffic, %g req/s, %d workers, queue of %d (seed %d)", total, o.cfg.Rate, o.cfg.Workers, o.cfg.Buffer, o.cfg.Seed)))

	// surge band on both panels
	for _, top := range []int{top1, top2} {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#fff3e0"/>`+"\n",
			x(time.Duration(0.4*float64(total))), top, x(time.Duration(0.6*float64(total)))-x(time.Duration(0.4*float64(total))), panelH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#e65100" text-anchor="middle">surge: x2 arrivals</text>`+"\n", x(total/2), top+panelH-6)
	}

	// panel 1: queue length
	qmax := float64(max(o.cfg.Buffer, 1))
	axes(&b, left, top1, int(plotW), panelH, total, qmax, "queue length (requests)", func(v float64) string { return fmt.Sprintf("%.0f", v) })
	var pts []string
	for _, s := range r.Timeline {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(s.At), float64(top1+panelH)-float64(panelH)*float64(s.Queue)/qmax))
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1565c0" stroke-width="1.6" points="%s"/>`+"\n", strings.Join(pts, " "))
	fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%d" y2="%d" stroke="#c62828" stroke-dasharray="4 3"/>`+"\n", left, float64(left)+plotW, top1, top1)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#c62828" text-anchor="end">full: arrivals dropped</text>`+"\n", float64(left)+plotW-4, top1-4)

	// panel 2: latency
	lmax := 0.0
	for _, s := range r.Timeline {
		lmax = math.Max(lmax, s.P95.Seconds())
	}
	lmax = niceCeil(math.Max(lmax, o.cfg.Timeout.Seconds()))
	axes(&b, left, top2, int(plotW), panelH, total, lmax, "latency (seconds)", func(v float64) string { return fmt.Sprintf("%.2g", v) })
	for _, series := range []struct {
		color, name string
		get         func(Sample) time.Duration
	}{
		{"#2e7d32", "p50", func(s Sample) time.Duration { return s.P50 }},
		{"#ef6c00", "p95", func(s Sample) time.Duration { return s.P95 }},
	} {
		pts = pts[:0]
		for _, s := range r.Timeline {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(s.At), float64(top2+panelH)-float64(panelH)*series.get(s).Seconds()/lmax))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`+"\n", series.color, strings.Join(pts, " "))
	}
	ty := float64(top2+panelH) - float64(panelH)*o.cfg.Timeout.Seconds()/lmax
	fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#c62828" stroke-dasharray="4 3"/>`+"\n", left, float64(left)+plotW, ty, ty)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#c62828" text-anchor="end">timeout</text>`+"\n", float64(left)+plotW-4, ty-4)
	// legend
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#2e7d32">— p50</text><text x="%d" y="%d" fill="#ef6c00">— p95</text>`+"\n", left+8, top2+30, left+60, top2+30)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">model time</text>`+"\n", float64(left)+plotW/2, height-8)
	if o.real && lagging(o.cfg, r) {
		// the report does not show these figures; the chart says why
		for _, top := range []int{top1, top2} {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#c62828" font-size="16" font-weight="bold" text-anchor="middle">%s</text>`+"\n",
				float64(left)+plotW/2, top+panelH/2, html.EscapeString(fmt.Sprintf("not the model's figures: timers fired %v late on average", round(r.Lag.Mean()))))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// axes draws a panel frame, y ticks from 0 to ymax, and time ticks.
func axes(b *strings.Builder, left, top, w, h int, total time.Duration, ymax float64, label string, format func(float64) string) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#9e9e9e"/>`+"\n", left, top, w, h)
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		y := float64(top+h) - float64(h)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eeeeee"/>`+"\n", left, left+w, y, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, format(v))
	}
	for i := 0; i <= 6; i++ {
		at := total * time.Duration(i) / 6
		xx := float64(left) + float64(w)*float64(i)/6
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#9e9e9e"/>`+"\n", xx, xx, top+h, top+h+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", xx, top+h+17, at.Round(time.Second))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left, top-8, label)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
