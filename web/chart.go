package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Charts for the supervisors' dashboard, drawn on the server as SVG: no
// script, no inline style (the CSP forbids both), only presentation
// attributes. Each is an image with a <title> and a <desc> that says what it
// shows in words; the page puts the same numbers beside it as a table and as CSV.

// chart is one series of labelled values.
type chart struct {
	ID     string // unique in the page; prefixes the title's and description's ids
	Title  string
	Desc   string // the chart in words: what it shows and its notable values
	Labels []string
	Values []float64
	// Line draws a line through the points instead of bars.
	Line bool
	// Horizontal draws bars left to right, one row per label (long labels: people).
	Horizontal bool
}

// Chart geometry: a fixed view box the stylesheet scales to the column's width.
const (
	chartW, chartH           = 640, 240
	padLeft, padRight        = 44, 12
	padTop, padBottom        = 12, 36
	barColour, lineColour    = "#1d70b8", "#1d70b8"
	axisColour, gridColour   = "#0b0c0c", "#b1b4b6"
	textColour               = "#0b0c0c"
	horizontalRowH, labelGap = 28, 170
)

// niceMax rounds the largest value up to a round axis maximum (1, 2, 5 × 10ⁿ).
func niceMax(values []float64) float64 {
	top := 0.0
	for _, v := range values {
		top = math.Max(top, v)
	}
	if top <= 0 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(top)))
	for _, m := range []float64{1, 2, 5, 10} {
		if top <= m*exp {
			return m * exp
		}
	}
	return 10 * exp
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func px(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// SVG renders the chart.
func (c chart) SVG() template.HTML {
	if c.Horizontal {
		return c.horizontal()
	}
	var b strings.Builder
	c.open(&b, chartW, chartH)
	top := niceMax(c.Values)
	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBottom)
	y := func(v float64) float64 { return padTop + plotH - v/top*plotH }
	for _, g := range []float64{0, top / 2, top} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="%s" stroke-width="1"/>`,
			padLeft, chartW-padRight, px(y(g)), px(y(g)), gridColour)
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" font-size="12" fill="%s">%s</text>`,
			padLeft-6, px(y(g)+4), textColour, num(g))
	}
	n := len(c.Values)
	step := plotW / math.Max(1, float64(n))
	every := max(1, (n+11)/12) // at most twelve axis labels
	var points []string
	for i, v := range c.Values {
		x := padLeft + float64(i)*step
		if c.Line {
			cx := x + step/2
			if n > 1 {
				cx = padLeft + float64(i)*plotW/float64(n-1)
			}
			points = append(points, px(cx)+","+px(y(v)))
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`, px(cx), px(y(v)), lineColour)
			if i%every == 0 || i == n-1 {
				c.label(&b, cx, i)
			}
			continue
		}
		h := v / top * plotH
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`,
			px(x+step*0.15), px(y(v)), px(step*0.7), px(h), barColour)
		if i%every == 0 {
			c.label(&b, x+step/2, i)
		}
	}
	if c.Line && len(points) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="3"/>`,
			strings.Join(points, " "), lineColour)
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="%s" stroke-width="2"/>`,
		padLeft, chartW-padRight, px(y(0)), px(y(0)), axisColour)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func (c chart) label(b *strings.Builder, x float64, i int) {
	if i < len(c.Labels) {
		fmt.Fprintf(b, `<text x="%s" y="%d" text-anchor="middle" font-size="12" fill="%s">%s</text>`,
			px(x), chartH-padBottom+18, textColour, html.EscapeString(c.Labels[i]))
	}
}

func (c chart) open(b *strings.Builder, w, h int) {
	id := html.EscapeString(c.ID)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" `+
		`aria-labelledby="%s-title %s-desc" focusable="false">`, w, h, id, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`,
		id, html.EscapeString(c.Title), id, html.EscapeString(c.Desc))
}

// horizontal draws one bar per label, its value written at its end.
func (c chart) horizontal() template.HTML {
	var b strings.Builder
	rows := max(1, len(c.Values))
	h := padTop + rows*horizontalRowH + padTop
	c.open(&b, chartW, h)
	top := niceMax(c.Values)
	plotW := float64(chartW - labelGap - padRight - 40)
	for i, v := range c.Values {
		y := padTop + i*horizontalRowH
		label := ""
		if i < len(c.Labels) {
			label = c.Labels[i]
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="13" fill="%s">%s</text>`,
			labelGap-8, y+18, textColour, html.EscapeString(label))
		w := v / top * plotW
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%s" height="%d" fill="%s"/>`,
			labelGap, y+4, px(w), horizontalRowH-8, barColour)
		fmt.Fprintf(&b, `<text x="%s" y="%d" font-size="13" fill="%s">%s</text>`,
			px(float64(labelGap)+w+6), y+18, textColour, num(v))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>`,
		labelGap, labelGap, padTop, h-padTop, axisColour)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
