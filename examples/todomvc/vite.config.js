// Verified with LiveStore 0.4.0: module workers, an es2022 target (the page
// uses top-level await) and wa-sqlite kept out of the dev server's dependency
// pre-bundling. No LiveStore plugin is needed.
import { defineConfig } from 'vite'

export default defineConfig({
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 1000 },
  optimizeDeps: { exclude: ['@livestore/wa-sqlite'] },
})
