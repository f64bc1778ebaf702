package keys

import (
	"encoding/json"
	"errors"

	"github.com/visad/visad/domain"
)

// SealForm encrypts an application form for storage, bound to its
// application id; plain is the form's JSON, for the request hash.
func (k *Keyring) SealForm(applicationID string, form domain.Application) (sealed string, plain []byte, err error) {
	plain, err = json.Marshal(form)
	if err != nil {
		return "", nil, err
	}
	sealed, err = k.Seal(plain, applicationID)
	return sealed, plain, err
}

// OpenForm decrypts a form SealForm sealed for this application.
func (k *Keyring) OpenForm(applicationID, sealed string) (domain.Application, error) {
	plain, err := k.Open(sealed, applicationID)
	if err != nil {
		return domain.Application{}, err
	}
	var form domain.Application
	if err := json.Unmarshal(plain, &form); err != nil {
		return domain.Application{}, errors.New("application form is corrupt")
	}
	return form, nil
}
