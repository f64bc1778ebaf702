package documents

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/documents/doctest"
)

var (
	red   = color.RGBA{220, 20, 20, 255}
	green = color.RGBA{20, 200, 20, 255}
	blue  = color.RGBA{20, 20, 220, 255}
	white = color.RGBA{250, 250, 250, 255}
)

// near reports whether a pixel is about c (JPEG moves colours a little).
func near(got color.Color, c color.RGBA) bool {
	r, g, b, _ := got.RGBA()
	d := func(a uint32, b uint8) bool { return int(a>>8)-int(b) < 40 && int(b)-int(a>>8) < 40 }
	return d(r, c.R) && d(g, c.G) && d(b, c.B)
}

// A photograph taken with the phone held sideways (or upside down, or
// mirrored by a front camera) is stored upright: the EXIF orientation is
// applied before the metadata is dropped. Each stored picture below is the
// upright one (600×800: red, green, white, blue clockwise from the top left)
// as a camera would have recorded it for that orientation, the corners
// worked out by hand.
func TestPhotographsAreStoredUpright(t *testing.T) {
	for _, tc := range []struct {
		orientation    int
		w, h           int
		tl, tr, br, bl color.RGBA // the stored picture's corners
	}{
		{1, 600, 800, red, green, white, blue},
		{2, 600, 800, green, red, blue, white},
		{3, 600, 800, white, blue, red, green},
		{4, 600, 800, blue, white, green, red},
		{5, 800, 600, red, blue, white, green},
		{6, 800, 600, green, white, blue, red},
		{7, 800, 600, white, green, red, blue},
		{8, 800, 600, blue, red, green, white},
	} {
		stored := doctest.JPEG(doctest.Quadrants(tc.w, tc.h, tc.tl, tc.tr, tc.br, tc.bl), 90)
		data := doctest.WithSegments(stored, doctest.OrientationSegment(tc.orientation))
		clean, facts, errs := Inspect(domain.DocumentPhotograph, data)
		if len(errs) > 0 {
			t.Fatalf("orientation %d: %+v", tc.orientation, errs)
		}
		if facts.Width != 600 || facts.Height != 800 {
			t.Errorf("orientation %d: facts say %d×%d, want the upright 600×800", tc.orientation, facts.Width,
				facts.Height)
		}
		img, err := jpeg.Decode(bytes.NewReader(clean))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 600 || b.Dy() != 800 {
			t.Fatalf("orientation %d: stored %v, want 600×800", tc.orientation, b)
		}
		for _, q := range []struct {
			x, y int
			want color.RGBA
			name string
		}{{150, 200, red, "top left"}, {450, 200, green, "top right"}, {450, 600, white, "bottom right"},
			{150, 600, blue, "bottom left"}} {
			if got := img.At(q.x, q.y); !near(got, q.want) {
				t.Errorf("orientation %d: %s is %v, want %v", tc.orientation, q.name, got, q.want)
			}
		}
		if bytes.Contains(clean, []byte("Exif")) {
			t.Errorf("orientation %d: EXIF kept", tc.orientation)
		}
	}
}

func TestJPEGOrientationOfDamagedEXIF(t *testing.T) {
	pic := doctest.JPEG(doctest.Plain(64, 48), 80)
	seg := doctest.OrientationSegment(6)
	for name, data := range map[string][]byte{
		"no EXIF":          pic,
		"truncated EXIF":   doctest.WithSegments(pic, seg[:len(seg)-8]),
		"an IFD past end":  doctest.WithSegments(pic, append(seg[:14:14], 0xFF, 0xFF, 0, 0)),
		"out of range (9)": doctest.WithSegments(pic, doctest.OrientationSegment(9)),
		"not a JPEG":       []byte("%PDF-1.4"),
	} {
		if o := jpegOrientation(data); o != 1 {
			t.Errorf("%s: orientation %d, want 1", name, o)
		}
	}
	if o := jpegOrientation(doctest.WithSegments(pic, doctest.EXIFSegment(), seg)); o != 6 {
		t.Errorf("after another EXIF segment: %d, want 6", o)
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(doctest.WithSegments(pic, seg))); err != nil {
		t.Fatalf("fixture: %v", err)
	}
}
