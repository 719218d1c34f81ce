# syntax=docker/dockerfile:1
# Build: docker build -t livematch .
# Run (embedded FerretDB + Bleve index in the volume):
#   docker run -p 8080:8080 -v livematch-data:/data livematch
# Run against a real MongoDB replica set:
#   docker run -p 8080:8080 -v livematch-data:/data \
#     -e MONGODB_URI='mongodb://mongo1,mongo2,mongo3/?replicaSet=rs0' \
#     -e MATCHD_ADMIN_KEY='<a long random key>' livematch

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# FerretDB's SQLite backend is pure Go, so the binary is fully static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/matchd ./cmd/matchd \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/matchd /matchd
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV MATCHD_ADDR=0.0.0.0:8080 \
    MATCHD_DATA_DIR=/data \
    MATCHD_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["/matchd", "healthcheck"]
ENTRYPOINT ["/matchd"]
CMD ["serve"]
