import type { Session } from 'ruts'
import type { Data } from '$lib/server/session'

declare global {
  namespace App {
    interface Locals {
      /** The request's session, set by the `handle` hook in hooks.server.ts. */
      session: Session<Data>
    }
  }
}
