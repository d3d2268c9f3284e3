#!/usr/bin/env node
// Regenerates docs/todomvc-two-browsers.png: two independent headless chromium
// contexts (alice and bob) on one list, synced through a throwaway Postgres +
// livestore-gateway, captured side by side.
//   node test/browser/screenshot.mjs [output.png]
// Needs what the browser test needs (test/browser/setup.sh, a built gateway).
import path from 'node:path'

import { startCluster, startGateway } from '../lib/harness.mjs'
import * as L from './lib.mjs'

const out = path.resolve(process.argv[2] ?? path.join(L.HERE, '../../docs/todomvc-two-browsers.png'))

L.ensureBuilt()
const pg = await startCluster()
const gw = await startGateway({ databaseUrl: pg.url })
const app = await L.startApp({ gateway: gw.endpoint })
const browser = await L.launchBrowser()
try {
  const storeId = `groceries-${Date.now().toString(36)}`
  const viewport = { width: 520, height: 450 }
  const A = await L.openUser(browser, { appUrl: app.url, storeId, name: 'alice', viewport })
  const B = await L.openUser(browser, { appUrl: app.url, storeId, name: 'bob', viewport })
  const sees = (u, text) => L.seenAt(u, '(ts, x) => ts.some((t) => t.text === x)', text)

  await L.addTodo(A, 'Buy oat milk')
  await sees(B, 'Buy oat milk')
  await L.addTodo(B, 'Water the plants')
  await L.addTodo(A, 'Book the train to Lyon')
  await sees(B, 'Book the train to Lyon')
  await sees(A, 'Water the plants')
  await L.toggleTodo(B, 'Buy oat milk')
  await L.seenAt(A, '(ts) => ts.length === 3 && ts[0].completed')
  await L.addTodo(B, 'Call the plumber')
  await sees(A, 'Call the plumber')
  for (const u of [A, B]) {
    await u.page.evaluate(() => document.activeElement?.blur())
    await u.page.mouse.move(1, 1)
  }

  const shots = [await A.page.screenshot(), await B.page.screenshot()].map((b) => b.toString('base64'))
  const page = await browser.newPage({ viewport: { width: 1100, height: 540 } })
  await page.setContent(`<!doctype html><html><body style="margin:0;padding:18px;background:#e9eaee;font:14px 'DejaVu Sans',sans-serif">
    <div style="display:flex;gap:20px;justify-content:center">
      ${['alice', 'bob']
        .map((who, i) => `<figure style="margin:0">
          <figcaption style="margin-bottom:6px;color:#444">Browser ${'AB'[i]}: <b>${who}</b> (own context, own OPFS storage)</figcaption>
          <img style="display:block;border:1px solid #bbb;border-radius:4px" src="data:image/png;base64,${shots[i]}">
        </figure>`)
        .join('')}
    </div>
    <p style="margin:10px 0 0;text-align:center;color:#555">Store <b>${storeId}</b>, synced through livestore-gateway (cross-origin) and Postgres</p>
  </body></html>`)
  await page.screenshot({ path: out, fullPage: true })
  await A.close()
  await B.close()
  console.log(`wrote ${out}`)
} finally {
  await browser.close()
  await app.close()
  await gw.stop()
  await pg.stop()
}
