// A User-Agent string is whatever the client chose to send: every browser claims to be "Mozilla", most
// claim "Safari", Edge and Opera claim "Chrome". So the tokens are tested most specific first, and the
// answer is a label for a person to recognise their own devices — never input to a security decision.
// It only ever returns one of the fixed names below, so nothing the client sent reaches the page.

const browsers: readonly [pattern: RegExp, name: string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOPiOS\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bHeadlessChrome\//, 'Headless Chrome'],
  [/\bChrom(e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/^curl\//, 'curl'],
]

const systems: readonly [pattern: RegExp, name: string][] = [
  [/\bWindows\b/, 'Windows'],
  [/\b(iPhone|iPad|iPod)\b/, 'iOS'],
  // iPadOS 13+ sends a Mac User-Agent by default: such an iPad shows as macOS.
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  // Android before Linux: Android's User-Agent says "Linux; Android".
  [/\bAndroid\b/, 'Android'],
  [/\bLinux\b/, 'Linux'],
]

/**
 * Describe the device a User-Agent string claims, as "Browser on OS" ("Chrome on Linux", "Safari on
 * iOS"), for a "Your devices" page.
 *
 * @param userAgent - the request's `User-Agent` header, if any
 * @returns a label made only of fixed names; "Unknown device" when nothing is recognised
 *
 * @example
 * ```ts
 * describeDevice('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36')
 * // 'Chrome on Linux'
 * ```
 */
export function describeDevice(userAgent: string | undefined): string {
  const text = userAgent ?? ''
  const browser = browsers.find(([pattern]) => pattern.test(text))?.[1]
  const system = systems.find(([pattern]) => pattern.test(text))?.[1]
  if (browser === undefined && system === undefined) return 'Unknown device'
  return `${browser ?? 'Unknown browser'} on ${system ?? 'an unknown system'}`
}
