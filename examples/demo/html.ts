// User names and User-Agent strings are attacker-controlled, so the demo never builds markup by
// concatenating strings: every value interpolated into an `html` template is escaped unless it is
// itself markup made by `html`. Escaping is the default, so a forgotten call cannot open a hole.

/** Markup that is safe to insert as is, made by {@link html}. */
export class Html {
  /** @param text - markup whose every interpolated value was escaped */
  constructor(readonly text: string) {}
}

/**
 * Escape text for an HTML text node or a double- or single-quoted attribute value.
 *
 * @param text - any text
 * @returns the text with `& < > " '` replaced by character references
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

/**
 * A template tag for markup: interpolated values are escaped; `Html` (from another `html` template)
 * and arrays of it are inserted as they are; `undefined`, `null` and `false` insert nothing, so
 * `${error && html`<p>…</p>`}` works.
 *
 * @param strings - the template's literal parts (trusted: they are the program's own text)
 * @param values - the interpolated values
 * @returns the markup
 *
 * @example
 * ```ts
 * const row = html`<li>${user.name}</li>` // a name '<script>' becomes &#60;script&#62;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let text = strings[0] ?? ''
  values.forEach((value, index) => {
    text += render(value) + (strings[index + 1] ?? '')
  })
  return new Html(text)
}

/**
 * The demo's page layout.
 *
 * @param title - the page title (escaped)
 * @param body - the page's main content
 * @returns the whole HTML document
 */
export function page(title: string, body: Html): string {
  return render(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><main>${body}</main>
<nav><a href="/">counter</a> · <a href="/devices">your devices</a> · <a href="/whoami">whoami</a> · <a href="/login">login</a></nav></body></html>`)
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return ''
  if (Array.isArray(value)) return value.map(render).join('')
  if (value instanceof Html) return value.text
  return escapeHtml(String(value))
}
