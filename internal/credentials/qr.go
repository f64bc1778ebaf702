package credentials

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// QRPNG draws text as a QR code PNG (error correction M, 4-module quiet
// zone, 6 pixels a module), rendered here so no third party sees the secret.
func QRPNG(text string) ([]byte, error) {
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: "M",
		gozxing.EncodeHintType_MARGIN:           0,
	}
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		return nil, fmt.Errorf("credentials: QR code: %w", err)
	}
	const quiet, px = 4, 6
	w, h := m.GetWidth(), m.GetHeight()
	img := image.NewGray(image.Rect(0, 0, (w+2*quiet)*px, (h+2*quiet)*px))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := range h {
		for x := range w {
			if !m.Get(x, y) {
				continue
			}
			for dy := range px {
				for dx := range px {
					img.Pix[((y+quiet)*px+dy)*img.Stride+(x+quiet)*px+dx] = 0
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
