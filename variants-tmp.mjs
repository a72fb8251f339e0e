import express from 'express'
const variant = process.argv[2]
const SYM = Symbol('d')
const NAMES = ['writeHead', 'write', 'end', 'flushHeaders']
const STAND = {}
for (const name of NAMES) STAND[name] = function (...args) {
  const d = this[SYM]
  for (const n of d.names) this[n] = d[n]
  return d[name].apply(this, args)
}
const app = express()
if (variant !== 'bare') app.use((req, res, next) => {
  if (variant === 'sym') { res[SYM] = { a: 1 } }
  else if (variant === 'wm') { WM.set(res, { a: 1 }) }
  else {
    const names = variant === 'end' ? ['end'] : variant === 'writeHead' ? ['writeHead'] : NAMES
    const d = { names }
    for (const n of names) d[n] = res[n]
    res[SYM] = d
    for (const n of names) res[n] = STAND[n]
  }
  next()
})
const WM = new WeakMap()
app.get('/', (req, res) => { res.send('ok') })
const server = app.listen(0, async () => {
  const port = server.address().port
  const go = async (n) => { for (let i = 0; i < n; i++) await fetch(`http://127.0.0.1:${port}/`) }
  await go(3000)
  const t = process.cpuUsage()
  const N = 6000
  await go(N)
  const u = process.cpuUsage(t)
  console.log(variant.padEnd(10), ((u.user + u.system) / N).toFixed(1))
  server.close()
})
