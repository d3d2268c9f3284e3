// The gateway's container image, run the way a container runs it: `buildah
// run` (chroot isolation, the host's network) with configuration by
// environment only, against a throwaway Postgres, with real LiveStore clients
// (the stock @livestore/sync-electric client of test/e2e) syncing through it;
// and the image's own HEALTHCHECK command. Needs `make image` first
// (test/packages/run.sh does it); LIVESTORE_IMAGE names another image.
import assert from 'node:assert/strict'
import { execFile, execFileSync, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'

import { openClient } from '../e2e/lib/client.mjs'
import { chainProblems, eventRows } from '../e2e/lib/db.mjs'
import { freePort, makeWorkDir, REPO_ROOT, startCluster, waitFor } from '../lib/harness.mjs'

const execFileP = promisify(execFile)
const VERSION = readFileSync(path.join(REPO_ROOT, 'livestore.control'), 'utf8').match(/^default_version = '(.*)'/m)[1]
const IMAGE = process.env.LIVESTORE_IMAGE || `localhost/livestore-gateway:${VERSION}`
const TOKEN = 'dev-token' // what test/e2e's client sends as payload.authToken

let pg, ctr, dir, config
before(async () => {
  dir = makeWorkDir('image')
  pg = await startCluster({ dir: path.join(dir, 'pg') })
  config = JSON.parse(execFileSync('buildah', ['inspect', '--type', 'image', IMAGE], { encoding: 'utf8' })).Docker.config
  ctr = execFileSync('buildah', ['from', '--pull=never', IMAGE], { encoding: 'utf8' }).trim()
})
after(async () => {
  if (ctr) execFileSync('buildah', ['rm', ctr], { stdio: 'ignore' })
  await pg?.stop()
})

/** `buildah run` in the image's container on the host's network; resolves {code, stdout, stderr}. */
async function inImage(env, ...cmd) {
  const args = ['run', '--isolation', 'chroot', '--network', 'host']
  for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`)
  try {
    const { stdout, stderr } = await execFileP('buildah', [...args, ctr, '--', ...cmd], { timeout: 30_000 })
    return { code: 0, stdout, stderr }
  } catch (e) {
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** The pid of the process listening on 127.0.0.1:port (the gateway inside the container). */
function listenerPid(port) {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' })
  const m = out.match(/pid=(\d+)/)
  return m ? Number(m[1]) : null
}

test('the image: non-root, configured by environment, HEALTHCHECK on /healthz', () => {
  assert.equal(config.User, '10001:10001')
  assert.deepEqual(config.Entrypoint, ['/usr/bin/livestore-gateway'])
  assert.ok(config.Env.includes('LIVESTORE_LISTEN=0.0.0.0:8787'), config.Env.join(' '))
  assert.equal(config.Healthcheck.Test[0], 'CMD-SHELL')
  assert.match(config.Healthcheck.Test[1], /\/healthz/)
})

test('the gateway from the image syncs real LiveStore clients', { timeout: 180_000 }, async () => {
  const port = await freePort()
  const env = {
    DATABASE_URL: pg.url,
    LIVESTORE_LISTEN: `127.0.0.1:${port}`,
    LIVESTORE_AUTH_TOKEN: TOKEN,
    LIVESTORE_DRAIN_SECONDS: '0',
  }
  const version = await inImage(env, '/usr/bin/livestore-gateway', '--version')
  assert.equal(version.code, 0, version.stderr)
  assert.match(version.stdout, new RegExp(`^livestore-gateway ${VERSION.replace(/\./g, '\\.')}\n`))
  assert.match(version.stdout, /\nextension: 0\.2\.0 \(database "postgres"\)\n/)

  const logFile = path.join(dir, 'gateway.log')
  const fd = openSync(logFile, 'a')
  const args = ['run', '--isolation', 'chroot', '--network', 'host']
  for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`)
  const proc = spawn('buildah', [...args, ctr, '--', ...config.Entrypoint], { stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
  const log = () => readFileSync(logFile, 'utf8')
  const clients = []
  try {
    const endpoint = `http://127.0.0.1:${port}/api/electric`
    await waitFor(async () => (await fetch(endpoint, { method: 'HEAD' })).status === 200, { timeout: 30_000, what: `the gateway in the image (log:\n${log()})` })
    assert.equal(execFileSync('ps', ['-o', 'user=', '-p', String(listenerPid(port))], { encoding: 'utf8' }).trim(), '10001')

    // The image's own healthcheck command, inside the image.
    const health = await inImage({ LIVESTORE_LISTEN: env.LIVESTORE_LISTEN }, 'sh', '-c', config.Healthcheck.Test[1])
    assert.equal(health.code, 0, `healthcheck failed: ${health.stdout}${health.stderr}`)

    const storeId = `image_${Date.now().toString(36)}`
    for (const id of ['image-a', 'image-b']) clients.push(await openClient({ storeId, endpoint, clientId: id, logDir: dir }))
    const [a, b] = clients
    await a.commit({ id: 'from-a', text: 'through the image' })
    await b.waitForIds(['from-a'], { timeout: 20_000 })
    await b.commit({ id: 'from-b', text: '' })
    await a.waitForIds(['from-a', 'from-b'], { timeout: 20_000 })
    const rows = await eventRows(pg.url, storeId)
    assert.deepEqual(chainProblems(rows), [])
    assert.deepEqual(rows.map((r) => r.args.id).sort(), ['from-a', 'from-b'])
    assert.match(log(), /livestore extension 0\.2\.0 in database \\"postgres\\"/)
  } finally {
    for (const c of clients) await c.close().catch(() => {})
    const pid = listenerPid(port)
    if (pid) process.kill(pid, 'SIGTERM')
    const t = setTimeout(() => proc.kill('SIGKILL'), 20_000)
    var exit = await exited
    clearTimeout(t)
  }
  assert.equal(exit.code, 0, `the gateway did not stop cleanly: ${JSON.stringify(exit)}\n${log()}`)
  assert.match(log(), /"stopped"/)
  // With the gateway gone the healthcheck fails, as it should.
  const down = await inImage({ LIVESTORE_LISTEN: env.LIVESTORE_LISTEN }, 'sh', '-c', config.Healthcheck.Test[1])
  assert.notEqual(down.code, 0)
})
