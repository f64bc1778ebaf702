package documents

import (
	"encoding/binary"
	"image"
	"image/draw"
)

// A camera or phone that was held sideways stores the picture as its sensor
// saw it and says in EXIF (tag 0x0112, Orientation) how to turn it for
// display. Re-encoding drops EXIF, so the picture is turned upright first:
// otherwise a passport scan or a photograph would be stored on its side.

// jpegOrientation reads the EXIF Orientation of a JPEG: 1 (upright, also
// when there is none or it cannot be read) to 8.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD9 || marker == 0xDA { // end of image, start of scan: no EXIF before
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			if o := tiffOrientation(seg[6:]); o != 0 {
				return o
			}
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation finds the Orientation in the first IFD of a TIFF
// structure (EXIF's), 0 when it has none.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return 0
	}
	entries := int(bo.Uint16(t[ifd:]))
	for e := 0; e < entries; e++ {
		at := ifd + 2 + 12*e
		if at+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[at:]) != 0x0112 {
			continue
		}
		if bo.Uint16(t[at+2:]) != 3 { // SHORT
			return 0
		}
		if o := int(bo.Uint16(t[at+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 0
	}
	return 0
}

// upright turns a picture stored with EXIF orientation o (2 to 8) the way a
// viewer would show it; orientation 1 returns it unchanged.
func upright(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 { // turned a quarter: width and height swap
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+4*w]
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored left to right
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored top to bottom
				dx, dy = x, h-1-y
			case 5: // mirrored along the diagonal (transposed)
				dx, dy = y, x
			case 6: // to be turned a quarter clockwise
				dx, dy = h-1-y, x
			case 7: // mirrored along the other diagonal (transversed)
				dx, dy = h-1-y, w-1-x
			case 8: // to be turned a quarter counter-clockwise
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dy*dst.Stride+4*dx:dy*dst.Stride+4*dx+4], row[4*x:4*x+4])
		}
	}
	return dst
}
