// The few Next.js, SvelteKit and Nuxt (Nitro 2) APIs the docs' blocks use next to ruts. None of them
// is installed at the root (the Next.js and SvelteKit example apps under examples/ have their own
// install, where the same code is type-checked against the real framework by `npm run
// test:frameworks`); these are their signatures as the frameworks declare them.
declare module 'next/navigation' {
  export function redirect(url: string, type?: 'replace' | 'push'): never
}

declare module '@sveltejs/kit' {
  type MaybePromise<T> = T | Promise<T>
  export interface RequestEvent {
    request: Request
    url: URL
    locals: App.Locals
    params: Record<string, string>
  }
  export type Handle = (input: {
    event: RequestEvent
    resolve: (event: RequestEvent, options?: object) => MaybePromise<Response>
  }) => MaybePromise<Response>
  export type Action = (event: RequestEvent) => MaybePromise<unknown>
  export type Actions = Record<string, Action>
  export function redirect(status: 300 | 301 | 302 | 303 | 304 | 305 | 306 | 307 | 308, location: string | URL): never
  global {
    namespace App {
      interface Locals {}
    }
  }
}

declare module '@sveltejs/kit/hooks' {
  import type { Handle } from '@sveltejs/kit'
  export function sequence(...handlers: Handle[]): Handle
}

declare module 'nitropack/runtime' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  /** Nitro 2 runs h3 1: its events carry the Node request and response. */
  interface NitroEvent {
    context: Record<string, unknown>
    node: { req: IncomingMessage; res: ServerResponse }
  }
  export interface NitroApp {
    hooks: {
      hook(
        name: 'request' | 'beforeResponse' | 'afterResponse',
        handler: (event: NitroEvent, response?: { body?: unknown }) => void | Promise<void>,
      ): () => void
    }
    h3App: { options: { onError?: (error: Error & { statusCode: number }, event: NitroEvent) => unknown } }
  }
  export function defineNitroPlugin(plugin: (nitroApp: NitroApp) => void): (nitroApp: NitroApp) => void
}
