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

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/visad /usr/local/bin/visad
# distroless's "nonroot" user (uid 65532); nothing in the image runs as root.
USER 65532:65532
ENV VISA_HTTP_ADDR=0.0.0.0:8080 \
    VISA_DATA_DIR=/tmp/visad
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/visad"]
CMD ["api"]
