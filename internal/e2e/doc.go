// Package e2e holds the full-stack tests: each starts the embedded Temporal
// server (internal/testenv), a real SQLite or PostgreSQL app database, a
// worker and the HTTP API, and drives them over HTTP. Nothing is mocked.
//
// They live apart from the packages they exercise so that the unit tests and
// fuzz targets of api, domain and activities build without the Temporal
// server: `go test ./api ./domain ./activities` stays quick.
package e2e
