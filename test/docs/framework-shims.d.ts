// The few Next.js and SvelteKit APIs the docs' blocks use next to ruts. Neither framework is
// installed at the root (each example app under examples/ has its own install, where the same code
// is type-checked against the real framework by `npm run test:frameworks`); these are their
// signatures as the frameworks declare them.
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
