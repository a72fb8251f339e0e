import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RunningServer } from '../../src/testing/adapter-suite.js'

/**
 * Listen on an ephemeral loopback port.
 *
 * @param server - a Node HTTP server
 * @returns its URL and a close function that also drops keep-alive connections
 */
export async function listen(server: Server): Promise<RunningServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
