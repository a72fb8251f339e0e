'use server'
import { redirect } from 'next/navigation'
import { getSession } from 'ruts/next'
import { layer } from './session'

/** Log in: store the name, then move the session to a fresh id (no session fixation). */
export async function login(form: FormData): Promise<void> {
  const session = await getSession(layer)
  await session.update('user', String(form.get('name') ?? 'anonymous'))
  await session.regenerate()
  // The cookie was set by the calls above, so it survives the redirect.
  redirect('/')
}

/** Count one more visit. */
export async function increment(): Promise<void> {
  const session = await getSession(layer)
  await session.update('count', ((await session.get('count')) ?? 0) + 1)
}

/** Log out: delete the session and its cookie. */
export async function logout(): Promise<void> {
  const session = await getSession(layer)
  await session.delete()
  redirect('/')
}
