// The viewer's build (`npm run build:web` → web/dist, served by `tumorscope serve`) and dev server: `npx vite
// web` serves the page with hot reload and passes /api/ on to a running `tumorscope serve` (port 8080 by
// default; TUMORSCOPE_API=http://host:port for another).
import { defineConfig } from 'vite';

const api = process.env['TUMORSCOPE_API'] ?? 'http://127.0.0.1:8080';

export default defineConfig({
  server: { proxy: { '/api': { target: api, changeOrigin: true } } },
  build: { target: 'es2022' },
});
