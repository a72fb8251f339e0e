import type { IncomingMessage } from 'node:http'
import type { RequestTransport } from '../../core/layer.js'

/**
 * Scheme and host of a Node request, for the one-time plain-HTTP `Secure` warning. Looks only at the
 * socket (a framework that trusts `X-Forwarded-Proto` passes its own answer instead).
 *
 * @param request - the Node request
 * @returns protocol and hostname
 */
export function nodeTransport(request: IncomingMessage): RequestTransport {
  const encrypted = (request.socket as { encrypted?: boolean }).encrypted === true
  const host = request.headers.host ?? ''
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '')
  return { protocol: encrypted ? 'https' : 'http', hostname }
}

/**
 * Scheme and host of a Web request, for the one-time plain-HTTP `Secure` warning.
 *
 * @param url - the request URL as the runtime built it
 * @returns protocol and hostname
 */
export function webTransport(url: string): RequestTransport {
  const { protocol, hostname } = new URL(url)
  return { protocol: protocol === 'https:' ? 'https' : 'http', hostname }
}
