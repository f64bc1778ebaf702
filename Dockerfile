# visad: one image for every role (api, worker, migrate, users …).
# Build:  docker build -t visad .
# Run:    docker run --rm visad api   (configuration from VISA_* variables)

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so the dependency layer is cached across source edits.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (modernc SQLite, pgx): a static binary for a distroless image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/visad ./cmd/visad
# Mount points of the e-visa seal PKI (docker-compose.yml): a new named volume
# takes their owner, so the non-root user can write it in seal-init.
RUN mkdir -p /out/state/seal /out/state/seal-ca

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/visad /usr/local/bin/visad
COPY --from=build --chown=65532:65532 /out/state/ /var/lib/visad/
# distroless's "nonroot" user (uid 65532); nothing in the image runs as root.
USER 65532:65532
# No VISA_DATA_DIR: api and worker then refuse to start without the VISA_SEAL_*
# files, instead of each container making a development seal PKI of its own.
ENV VISA_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/visad"]
CMD ["api"]
