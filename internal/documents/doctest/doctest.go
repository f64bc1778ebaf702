// Package doctest makes the files the document tests upload: pictures with
// and without metadata, a real PDF, and a program posing as one.
package doctest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"

	"github.com/go-pdf/fpdf"
)

// CameraMake and the GPS latitude are what EXIFSegment writes; a cleaned
// picture must hold neither.
const CameraMake = "VisadTestCam"

// Noise is a w×h picture of random pixels (seeded, so tests repeat): it
// compresses badly, so its JPEG is large.
func Noise(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.UintN(256))
	}
	return img
}

// Plain is a w×h picture of gentle gradients: its JPEG is small.
func Plain(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 160, 255})
		}
	}
	return img
}

// JPEG encodes img.
func JPEG(img image.Image, quality int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// PNG encodes img.
func PNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// Photograph is a JPEG the photograph rule takes: 600×800, well under 350 KB.
func Photograph() []byte { return JPEG(Plain(600, 800), 85) }

// EXIFSegment is a JPEG APP1 segment with a camera make and a GPS position
// (43°14'51.23"N, Almaty).
func EXIFSegment() []byte {
	be := binary.BigEndian
	tiff := make([]byte, 106)
	copy(tiff, "MM")
	be.PutUint16(tiff[2:], 42)
	be.PutUint32(tiff[4:], 8)
	entry := func(at int, tag, typ uint16, count, value uint32) {
		be.PutUint16(tiff[at:], tag)
		be.PutUint16(tiff[at+2:], typ)
		be.PutUint32(tiff[at+4:], count)
		be.PutUint32(tiff[at+8:], value)
	}
	// IFD0 at 8: Make (ASCII at 68) and the GPS IFD pointer (38).
	be.PutUint16(tiff[8:], 2)
	entry(10, 0x010F, 2, uint32(len(CameraMake)+1), 68)
	entry(22, 0x8825, 4, 1, 38)
	// GPS IFD at 38: latitude ref "N" (inline) and latitude (rationals at 82).
	be.PutUint16(tiff[38:], 2)
	entry(40, 0x0001, 2, 2, 0)
	tiff[48] = 'N'
	entry(52, 0x0002, 5, 3, 82)
	copy(tiff[68:], CameraMake)
	for i, v := range []uint32{43, 1, 14, 1, 5123, 100} {
		be.PutUint32(tiff[82+4*i:], v)
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	be.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// WithSegments puts JPEG segments right after the start-of-image marker.
func WithSegments(jpg []byte, segments ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segments {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// Comment is a JPEG comment segment of n bytes in all (n ≥ 4, ≤ 65537).
func Comment(n int) []byte {
	seg := make([]byte, n)
	seg[0], seg[1] = 0xFF, 0xFE
	binary.BigEndian.PutUint16(seg[2:], uint16(n-2))
	for i := 4; i < n; i++ {
		seg[i] = 'c'
	}
	return seg
}

// PaddedTo grows a JPEG to exactly size bytes with comment segments.
func PaddedTo(jpg []byte, size int) []byte {
	var segs [][]byte
	for left := size - len(jpg); left > 0; {
		n := min(left, 60000)
		if left-n > 0 && left-n < 4 {
			n -= 4
		}
		segs = append(segs, Comment(n))
		left -= n
	}
	return WithSegments(jpg, segs...)
}

// GeotaggedJPEG is a camera-like picture of at least minBytes carrying EXIF
// with a GPS position and the camera's make.
func GeotaggedJPEG(minBytes int) []byte {
	w := 800
	for {
		jpg := JPEG(Noise(w, w*3/4, 7), 92)
		if len(jpg) >= minBytes {
			return WithSegments(jpg, EXIFSegment())
		}
		w += w / 4
	}
}

// PDF is a real one-page PDF letter.
func PDF(text string) []byte {
	doc := fpdf.New("P", "mm", "A4", "")
	doc.AddPage()
	doc.SetFont("Helvetica", "", 12)
	doc.MultiCell(0, 6, text, "", "L", false)
	var b bytes.Buffer
	if err := doc.Output(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// Program is the start of a Windows program: what a .exe renamed .pdf holds.
func Program() []byte {
	b := make([]byte, 4096)
	copy(b, "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
	copy(b[0x4e:], "This program cannot be run in DOS mode.\r\r\n$")
	copy(b[0x80:], "PE\x00\x00")
	return b
}

// OrientationSegment is a JPEG APP1 segment whose EXIF says how to turn the
// picture for display (tag 0x0112: 1 upright … 8), little-endian as phones
// write it.
func OrientationSegment(o int) []byte {
	le := binary.LittleEndian
	tiff := make([]byte, 26)
	copy(tiff, "II")
	le.PutUint16(tiff[2:], 42)
	le.PutUint32(tiff[4:], 8)
	le.PutUint16(tiff[8:], 1) // one entry: Orientation, SHORT, 1, value inline
	le.PutUint16(tiff[10:], 0x0112)
	le.PutUint16(tiff[12:], 3)
	le.PutUint32(tiff[14:], 1)
	le.PutUint16(tiff[18:], uint16(o))
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// Quadrants is a w×h picture of four flat colours, clockwise from the top
// left: tl, tr, br, bl. It shows which way up a picture is.
func Quadrants(w, h int, tl, tr, br, bl color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := tl
			switch {
			case x >= w/2 && y < h/2:
				c = tr
			case x >= w/2:
				c = br
			case y >= h/2:
				c = bl
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}
