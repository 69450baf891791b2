# Portico image: controller + data plane in one Node.js process.
#   docker build -t ghcr.io/portico-dev/portico:0.1.0 .
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# the same non-root uid the manifests' securityContext asks for
USER 65532:65532
EXPOSE 80 443 9091
ENTRYPOINT ["node", "/app/bin/portico.js"]
CMD ["controller"]
