import type { AddressInfo } from 'node:net'
import { Server } from 'node:net'

// Preloaded (`node --import`) into a documentation block the snippet test runs: the block's
// `listen(3000)` must not collide with anything else on this machine, so every listen goes to an
// ephemeral loopback port, and the port is reported on stderr for the test to connect to.
const listen = Server.prototype.listen as (this: Server, ...args: unknown[]) => Server
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const callback = args.find((arg) => typeof arg === 'function')
  this.once('listening', () => {
    process.stderr.write(`ruts-snippet-listening ${(this.address() as AddressInfo).port}\n`)
  })
  return callback ? listen.call(this, 0, '127.0.0.1', callback) : listen.call(this, 0, '127.0.0.1')
} as typeof Server.prototype.listen
