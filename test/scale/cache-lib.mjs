// Helpers of test/scale/cache.test.mjs: nginx and Varnish started from the
// shipped deploy/ files (only ports and paths replaced), bounded raw live
// readers of the LiveStore endpoint, and the gateway's pull counter.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import { REPO_ROOT, freePort, waitFor } from '../lib/harness.mjs'
import { inserts, pullUrl } from '../gateway/lib.mjs'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
/** Milliseconds on the monotonic clock client-process.mjs reports in (shared by all processes). */
export const hrNow = () => Number(process.hrtime.bigint()) / 1e6
export const NGINX_CONF = path.join(REPO_ROOT, 'deploy/nginx/livestore-cache.conf')
export const VARNISH_VCL = path.join(REPO_ROOT, 'deploy/varnish/livestore.vcl')

/** Installs nginx-light and varnish from Debian when missing (test/scale/install-deps.sh). */
export function installDeps() {
  const r = spawnSync('sh', [path.join(REPO_ROOT, 'test/scale/install-deps.sh')], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('test/scale/install-deps.sh failed')
}

function replaceOnce(text, from, to, file) {
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}: update cache-lib.mjs`)
  return text.replace(from, to)
}

function spawnLogged(cmd, args, logFile) {
  const out = [], proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  for (const s of [proc.stdout, proc.stderr]) s.on('data', (d) => out.push(d))
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    writeFileSync(logFile, Buffer.concat(out))
    resolve({ code, signal })
  }))
  return { proc, exited, output: () => Buffer.concat(out).toString() }
}

async function waitHttp(url, what, p) {
  await waitFor(async () => {
    if (p.proc.exitCode !== null) throw new Error(`${what} exited: ${p.output()}`)
    try {
      const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(1000) })
      return r.status < 500
    } catch { return false }
  }, { timeout: 20_000, what })
}

/**
 * nginx running deploy/nginx/livestore-cache.conf in front of gatewayPort. Returns { url, endpoint, stop(),
 * accessLog, statusUrl }: the access log has one line per request (time, connection, method, status, cache
 * status, request and upstream times, upstream status, URI); statusUrl is the wrapper's stub_status.
 */
export async function startNginx({ gatewayPort, dir, endpointPath = '/api/electric' }) {
  mkdirSync(path.join(dir, 'cache'), { recursive: true })
  mkdirSync(path.join(dir, 'tmp'), { recursive: true })
  const port = await freePort(), statusPort = await freePort()
  let conf = readFileSync(NGINX_CONF, 'utf8')
  conf = replaceOnce(conf, 'listen 8080;', `listen 127.0.0.1:${port};`, NGINX_CONF)
  conf = replaceOnce(conf, 'server 127.0.0.1:8787;', `server 127.0.0.1:${gatewayPort};`, NGINX_CONF)
  conf = replaceOnce(conf, '/var/cache/nginx/livestore', path.join(dir, 'cache'), NGINX_CONF)
  writeFileSync(path.join(dir, 'livestore-cache.conf'), conf)
  const accessLog = path.join(dir, 'access.log')
  // The wrapper is what /etc/nginx/nginx.conf is on a server; sized for 2,000+ readers.
  writeFileSync(path.join(dir, 'nginx.conf'), `
${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16000; }
http {
  log_format cache '$msec $connection $request_method $status $upstream_cache_status $request_time $upstream_response_time $upstream_status "$request_uri"';
  access_log ${accessLog} cache;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${dir}/livestore-cache.conf;
  server { listen 127.0.0.1:${statusPort}; location = /status { stub_status; } }
}
`)
  const p = spawnLogged('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], path.join(dir, 'nginx.out'))
  const url = `http://127.0.0.1:${port}`
  await waitHttp(`${url}${endpointPath}`, 'nginx', p)
  return {
    name: 'nginx', url, endpoint: `${url}${endpointPath}`, accessLog, statusUrl: `http://127.0.0.1:${statusPort}/status`,
    /** SIGQUIT: graceful (waits for requests in flight, e.g. a poll held at the gateway); SIGTERM: at once. */
    async stop(signal = 'SIGQUIT') {
      if (p.proc.exitCode === null) p.proc.kill(signal)
      await p.exited
    },
  }
}

/** varnishd running deploy/varnish/livestore.vcl in front of gatewayPort. */
export async function startVarnish({ gatewayPort, dir, endpointPath = '/api/electric' }) {
  mkdirSync(dir, { recursive: true })
  const port = await freePort()
  let vcl = readFileSync(VARNISH_VCL, 'utf8')
  vcl = replaceOnce(vcl, '.port = "8787";', `.port = "${gatewayPort}";`, VARNISH_VCL)
  const vclFile = path.join(dir, 'livestore.vcl')
  writeFileSync(vclFile, vcl)
  const p = spawnLogged('varnishd', [
    '-F', '-n', path.join(dir, 'varnish'), '-a', `127.0.0.1:${port}`, '-T', `127.0.0.1:${await freePort()}`,
    '-f', vclFile, '-s', 'malloc,256m', '-p', 'thread_pool_max=3000',
  ], path.join(dir, 'varnishd.out'))
  const url = `http://127.0.0.1:${port}`
  await waitHttp(`${url}${endpointPath}`, 'varnishd', p)
  return {
    name: 'varnish', url, endpoint: `${url}${endpointPath}`,
    async stop() {
      if (p.proc.exitCode === null) p.proc.kill('SIGTERM')
      await p.exited
    },
  }
}

/** Pull requests the gateway answered so far (its /metrics). */
export async function originPulls(gatewayUrl) {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text()
  let n = 0
  for (const m of text.matchAll(/^livestore_gateway_requests_total\{route="pull",status="\d+"\} (\d+)$/gm)) n += Number(m[1])
  return n
}

/** GET over a keep-alive agent: { status, headers, text }. */
export function get(agent, url, { headers = {}, timeout = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers, timeout }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

/**
 * One raw live reader: the stock client's pull loop (handle None, then
 * electric-handle/-offset, flagged offsets included, live:true). Records the
 * time each seqNum arrived and fails at the first gap, repeat, non-2xx, or
 * more than maxRequests requests (a stale loop would hit that bound).
 */
export class RawReader {
  constructor({ agent, endpoint, storeId, authToken, maxRequests }) {
    Object.assign(this, { agent, endpoint, storeId, authToken, maxRequests })
    this.handle = null
    this.offset = null
    this.last = 0
    this.seen = new Map()   // seqNum -> hrNow() when received
    this.requests = 0
    this.failure = null
    this.readyAt = null     // first empty answer after the first page: caught up
    this.stopped = false
  }

  start() {
    this.startedAt = hrNow()
    this.done = this.#run()
    return this
  }

  stop() { this.stopped = true }

  async #run() {
    while (!this.stopped) {
      if (++this.requests > this.maxRequests) return this.#fail(`more than ${this.maxRequests} requests (a stale loop?)`)
      const url = pullUrl(this.endpoint, {
        storeId: this.storeId, handle: this.handle, offset: this.offset, live: true, payload: { authToken: this.authToken },
      })
      let r
      try { r = await get(this.agent, url) } catch (e) {
        if (this.stopped) return
        return this.#fail(`pull at ${this.offset}: ${e.message}`)
      }
      const t = hrNow()
      if (r.status !== 200) return this.#fail(`pull at ${this.offset}: status ${r.status} ${r.text.slice(0, 200)}`)
      const rows = inserts(JSON.parse(r.text))
      for (const m of rows) {
        const seq = Number(m.value.seqNum)
        if (seq !== this.last + 1) return this.#fail(`pull at ${this.offset}: seqNum ${seq} after ${this.last}`)
        this.last = seq
        this.seen.set(seq, t)
      }
      if (rows.length === 0 && this.handle !== null && this.readyAt === null) this.readyAt = t
      this.handle = r.headers['electric-handle']
      this.offset = r.headers['electric-offset']
    }
  }

  #fail(message) {
    this.failure = `${message}`
    this.stopped = true
  }
}

export const percentile = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN
export { sleep }
