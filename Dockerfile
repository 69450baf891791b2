# Portico image: `portico controller` (the control plane; by default each Gateway gets its own data
# plane) and `portico dataplane` (what the controller provisions) share it.
#   docker build -t ghcr.io/portico-dev/portico:0.1.0 .
# Without Docker, `npm run image` (hack/image.sh) builds the same image: Debian bookworm with only
# libc6 and libstdc++6 (here distroless cc-debian12, also bookworm), the official Node.js binary at
# the version hack/node.sh pins (NODE_VERSION below; test/image checks the two agree), uid 65532,
# the same entrypoint, command and ports.
ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
# No source maps (they point at src/, which the image does not hold); type declarations and maps in
# node_modules are never loaded at run time.
RUN npm run build -- --sourceMap false && npm prune --omit=dev --no-audit --no-fund \
 && find node_modules \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -type f -delete \
 && rm -rf node_modules/@types node_modules/.package-lock.json

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/node /usr/local/bin/node
# glibc's malloc settings for every process: src/dataplane/heap-flags.ts
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# the same non-root uid the manifests' securityContext asks for
USER 65532:65532
EXPOSE 80 443 9091
ENTRYPOINT ["node", "--max-semi-space-size=16", "/app/bin/portico.js"]
CMD ["controller"]
