// The slice of `next/headers` that ruts/next uses, declared here so the library builds without
// Next.js installed (it is an optional peer). The emitted declarations never mention these types:
// an app type-checks against its own Next.js.
declare module 'next/headers' {
  interface CookieAttributes {
    path: string
    domain?: string
    secure: boolean
    httpOnly: boolean
    sameSite: 'lax' | 'strict' | 'none'
    partitioned: boolean
    maxAge: number
    expires?: Date
  }
  interface CookieJar {
    get(name: string): { name: string; value: string } | undefined
    set(name: string, value: string, attributes: CookieAttributes): unknown
  }
  export function cookies(): Promise<CookieJar>
  export function headers(): Promise<{ get(name: string): string | null }>
}
