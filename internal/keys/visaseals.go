package keys

import "fmt"

// visaSealAD binds an encrypted visa seal to its application.
func visaSealAD(applicationID string) string { return "visa-seal:" + applicationID }

// SealVisaSeal encrypts a visa's seal bytes for storage: they carry the
// holder's name and passport number.
func (k *Keyring) SealVisaSeal(applicationID string, raw []byte) (string, error) {
	return k.Seal(raw, visaSealAD(applicationID))
}

// OpenVisaSeal decrypts a seal SealVisaSeal sealed for this application.
func (k *Keyring) OpenVisaSeal(applicationID, sealed string) ([]byte, error) {
	raw, err := k.Open(sealed, visaSealAD(applicationID))
	if err != nil {
		return nil, fmt.Errorf("visa seal of %s cannot be read: %w", applicationID, err)
	}
	return raw, nil
}
