#!/usr/bin/env node
// A tiny static server for the built app (dist/), Node builtins only:
//   node serve.mjs [--port 5173] [--host 127.0.0.1] [--gateway URL] [--idp URL] [--dir dist]
// With --gateway it also answers /config.json with {"gateway": URL}, which the
// page uses when its address has no ?gateway=; with --idp, {"idp": URL} too:
// the identity provider the page asks for its user's token (server/idp.mjs). Used by `make demo` and the
// browser test; importable as startStaticServer() too.
import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
}
const HERE = path.dirname(fileURLToPath(import.meta.url))

/** Serve `dir` on host:port (port 0: any free one). Resolves to { url, port, close() }. */
export function startStaticServer({ dir = path.join(HERE, 'dist'), host = '127.0.0.1', port = 0, gateway, idp } = {}) {
  const root = path.resolve(dir)
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname)
    if (pathname === '/config.json' && gateway) {
      res.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' })
      return res.end(JSON.stringify({ gateway, ...(idp ? { idp } : {}) }))
    }
    let file = path.join(root, path.normalize(pathname))
    if (!file.startsWith(root)) return res.writeHead(403).end()
    let st
    try {
      st = statSync(file)
      if (st.isDirectory()) st = statSync((file = path.join(file, 'index.html')))
    } catch {
      return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': st.size,
      // Hashed assets never change; the page itself is always fetched fresh.
      'cache-control': file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    })
    if (req.method === 'HEAD') return res.end()
    createReadStream(file).pipe(res)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      const { port } = server.address()
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()) }),
      })
    })
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opt = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`)
    return i > 0 ? process.argv[i + 1] : dflt
  }
  const srv = await startStaticServer({
    dir: opt('dir', path.join(HERE, 'dist')),
    host: opt('host', '127.0.0.1'),
    port: Number(opt('port', '5173')),
    gateway: opt('gateway', process.env.GATEWAY_URL),
    idp: opt('idp', process.env.IDP_URL),
  })
  console.log(`serving ${opt('dir', 'dist')} on ${srv.url}`)
  const stop = () => srv.close().then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
