#!/usr/bin/env bash
# Rebuild the web map's vendored assets from npm (run after changing api/web/package.json).
# The result (api/web/static/vendor) is committed, so installing NestPatrol needs no npm and the
# served pages load nothing from the network.
set -euo pipefail
cd "$(dirname "$0")/../api/web"
npm ci --no-audit --no-fund
rm -rf static/vendor/leaflet
mkdir -p static/vendor/leaflet
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css static/vendor/leaflet/
cp -r node_modules/leaflet/dist/images static/vendor/leaflet/
cp node_modules/leaflet/LICENSE static/vendor/leaflet/LICENSE
echo "vendored leaflet $(node -p "require('./node_modules/leaflet/package.json').version")"
