import { getSession } from 'ruts/next'
import { increment, login, logout } from './actions'
import { layer } from './session'

// A Server Component reads the session; it writes only through the Server Actions.
export default async function Home() {
  const session = await getSession(layer)
  const [user, count] = await Promise.all([session.get('user'), session.get('count')])
  return (
    <main>
      <p id="who">{user === undefined ? 'Not logged in.' : `Logged in as ${user}`}</p>
      <p id="count">Count: {count ?? 0}</p>
      <form action={increment}>
        <button id="increment" type="submit">
          Count
        </button>
      </form>
      {user === undefined ? (
        <form action={login}>
          <input name="name" placeholder="Your name" />
          <button id="login" type="submit">
            Log in
          </button>
        </form>
      ) : (
        <form action={logout}>
          <button id="logout" type="submit">
            Log out
          </button>
        </form>
      )}
    </main>
  )
}
