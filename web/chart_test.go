package web

import (
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestNiceMax(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 1}, {[]float64{0, 0}, 1}, {[]float64{1}, 1}, {[]float64{3}, 5}, {[]float64{7, 2}, 10},
		{[]float64{11}, 20}, {[]float64{0.3}, 0.5}, {[]float64{101}, 200}, {[]float64{500}, 500}} {
		if got := niceMax(c.in); got != c.want {
			t.Errorf("niceMax(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

var rectRE = regexp.MustCompile(`<rect x="[^"]*" y="([^"]*)" width="([^"]*)" height="([^"]*)"`)

func TestBarChartScalesBarsAndSaysWhatItShows(t *testing.T) {
	c := chart{ID: "per-hour", Title: "Decisions per hour", Desc: `3 at 09:00 & <none> later`,
		Labels: []string{"08:00", "09:00", "10:00"}, Values: []float64{1, 3, 0}}
	svg := string(c.SVG())
	var doc struct {
		XMLName xml.Name
		Role    string `xml:"role,attr"`
		Labels  string `xml:"aria-labelledby,attr"`
		Title   string `xml:"title"`
		Desc    string `xml:"desc"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("not well-formed SVG: %v\n%s", err, svg)
	}
	if doc.XMLName.Local != "svg" || doc.Role != "img" || doc.Labels != "per-hour-title per-hour-desc" {
		t.Errorf("svg element: %+v", doc)
	}
	if doc.Title != "Decisions per hour" || doc.Desc != c.Desc {
		t.Errorf("title %q desc %q: the description must survive escaping", doc.Title, doc.Desc)
	}
	bars := rectRE.FindAllStringSubmatch(svg, -1)
	if len(bars) != 3 {
		t.Fatalf("%d bars, want 3", len(bars))
	}
	heights := make([]float64, 3)
	for i, m := range bars {
		heights[i], _ = strconv.ParseFloat(m[3], 64)
	}
	// The axis tops out at 5 (niceMax of 3): the 3 is 60 % of the plot, the 1 a third of that, the 0 nothing.
	plot := float64(chartH - padTop - padBottom)
	if px(heights[1]) != px(plot*0.6) || px(heights[0]) != px(plot*0.2) || heights[2] != 0 {
		t.Errorf("bar heights %v for values %v (plot %v)", heights, c.Values, plot)
	}
	if strings.Contains(svg, "style=") || strings.Contains(svg, "<script") {
		t.Error("a chart must not carry inline style or script (the CSP refuses them)")
	}
}

func TestLineChartDrawsEveryPoint(t *testing.T) {
	c := chart{ID: "depth", Title: "Queue depth", Desc: "d", Line: true,
		Labels: []string{"a", "b", "c", "d"}, Values: []float64{4, 0, 2, 10}}
	svg := string(c.SVG())
	if n := strings.Count(svg, "<circle"); n != 4 {
		t.Errorf("%d points, want 4", n)
	}
	if !strings.Contains(svg, "<polyline") {
		t.Error("no line")
	}
	// The largest value (10, a round axis maximum) sits at the top of the plot, the zero on the axis.
	if !strings.Contains(svg, `cy="`+px(padTop)+`"`) || !strings.Contains(svg, `cy="`+px(chartH-padBottom)+`"`) {
		t.Errorf("points not scaled to the plot:\n%s", svg)
	}
}

func TestHorizontalChartLabelsEachRow(t *testing.T) {
	c := chart{ID: "who", Title: "Decisions per officer", Desc: "d", Horizontal: true,
		Labels: []string{"officer:usr_a", "supervisor:<b>"}, Values: []float64{10, 5}}
	svg := string(c.SVG())
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
	if !strings.Contains(svg, "officer:usr_a") || !strings.Contains(svg, "supervisor:&lt;b&gt;") {
		t.Errorf("labels missing or unescaped:\n%s", svg)
	}
	bars := rectRE.FindAllStringSubmatch(svg, -1)
	if len(bars) != 2 {
		t.Fatalf("%d bars", len(bars))
	}
	w0, _ := strconv.ParseFloat(bars[0][2], 64)
	w1, _ := strconv.ParseFloat(bars[1][2], 64)
	if w0 != 2*w1 || w0 <= 0 {
		t.Errorf("widths %v and %v for 10 and 5", w0, w1)
	}
}
