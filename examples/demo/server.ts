import { createDemoApp } from './app.js'

const port = Number(process.env.PORT ?? 3000)
const server = createDemoApp().listen(port, '127.0.0.1', () => {
  console.log(`ruts demo on http://localhost:${port} (MemoryStore) — Ctrl+C to stop`)
})
process.on('SIGINT', () => server.close(() => process.exit(0)))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
