import { defineConfig } from 'vitest/config';

// Tauri loads ui/dist; relative asset paths keep it working from any custom protocol root.
export default defineConfig({
  base: './',
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { outDir: 'dist', target: 'es2022', emptyOutDir: true },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
