import type { AddressInfo } from 'node:net'
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/** How the proxy treats traffic: pass it on, swallow it (a hung server), or refuse (server down). */
export type ProxyMode = 'forward' | 'blackhole' | 'down'

/** A TCP proxy in front of PostgreSQL that a test can turn into a slow, hung or dead server. */
export interface DatabaseProxy {
  port: number
  setMode(mode: Exclude<ProxyMode, 'down'>): void
  /**
   * Hold every reply from the server this long before passing it on (order kept). The server has
   * already run the statement: its result is as of then, and reaches the client late, as over a
   * slow network.
   */
  setReplyDelay(ms: number): void
  /** Drop every connection and stop listening: new connections are refused (ECONNREFUSED). */
  down(): Promise<void>
}

/**
 * Start a loopback proxy to `host:port` on an ephemeral port.
 *
 * @param host - the database host
 * @param port - the database port
 * @returns the proxy and its controls
 */
export async function startProxy(host: string, port: number): Promise<DatabaseProxy> {
  let mode: ProxyMode = 'forward'
  let replyDelay = 0
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server: Server = createServer((client) => {
    track(client)
    if (mode === 'blackhole') return
    const upstream = createConnection({ host, port })
    track(upstream)
    // Forward only while in 'forward' mode: a blackhole keeps the sockets open and answers nothing.
    client.on('data', (chunk) => mode === 'forward' && upstream.write(chunk))
    upstream.on('data', (chunk) => {
      if (mode !== 'forward') return
      // Equal delays fire in order, so the byte stream stays intact.
      if (replyDelay > 0) setTimeout(() => client.write(chunk), replyDelay)
      else client.write(chunk)
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    setMode(next) {
      mode = next
    },
    setReplyDelay(ms) {
      replyDelay = ms
    },
    async down() {
      mode = 'down'
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * A loopback port nobody listens on.
 *
 * @returns the port number
 */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
