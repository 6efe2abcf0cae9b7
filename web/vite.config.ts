// The viewer's build (`npm run build:web` → web/dist, served by `tumorscope serve`) and dev server: `npx vite
// web` serves the page with hot reload and passes /api/ on to a running `tumorscope serve` (port 8080 by
// default; TUMORSCOPE_API=http://host:port for another).
import { defineConfig } from 'vite';

const api = process.env['TUMORSCOPE_API'] ?? 'http://127.0.0.1:8080';

export default defineConfig({
  server: { proxy: { '/api': { target: api, changeOrigin: true } } },
  build: {
    target: 'es2022',
    // NiiVue (~870 kB) and the zarr codecs it can use (zstd, blosc: never loaded here) are chunks of their
    // own, fetched on demand, not part of the page's first load: see web/README.md, Bundle.
    chunkSizeWarningLimit: 1000,
  },
});
