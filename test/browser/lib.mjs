// Shared by the browser test and screenshot.mjs: build the example when its
// sources changed, serve it, launch Debian's chromium through playwright-core
// and open one independent browser context per user.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

export const HERE = path.dirname(fileURLToPath(import.meta.url))
export const APP_DIR = path.resolve(HERE, '../../examples/todomvc')
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

const newest = (p) => {
  const st = statSync(p)
  if (!st.isDirectory()) return st.mtimeMs
  return Math.max(st.mtimeMs, ...readdirSync(p).map((f) => newest(path.join(p, f))))
}

/** `vite build` in examples/todomvc unless dist/ is newer than every source. */
export function ensureBuilt() {
  const out = path.join(APP_DIR, 'dist/index.html')
  const sources = ['src', 'index.html', 'vite.config.js', 'package-lock.json'].map((f) => path.join(APP_DIR, f))
  if (existsSync(out) && statSync(out).mtimeMs > Math.max(...sources.map(newest))) return
  if (!existsSync(path.join(APP_DIR, 'node_modules/.bin/vite'))) {
    throw new Error(`${APP_DIR}/node_modules is missing: run test/browser/setup.sh first`)
  }
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: APP_DIR, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}${r.stderr}`)
}

export async function startApp({ gateway, idp }) {
  const { startStaticServer } = await import(path.join(APP_DIR, 'serve.mjs'))
  return startStaticServer({ gateway, idp })
}

/** The example's server-side rules (hooks, todo_stats, blocklist) into a database that has the extension, as a superuser. */
export function loadServerRules(databaseUrl) {
  execFileSync('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', path.join(APP_DIR, 'server/hooks.sql')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
}

/**
 * The example's table `todos_legacy` (examples/todomvc/server/legacy.sql): created with two rows when missing,
 * and captured into the list `storeId` (capture + import_rows in one transaction), as a superuser.
 */
export function loadLegacyTable(databaseUrl, storeId) {
  execFileSync(
    'psql',
    [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `store=${storeId}`, '-f', path.join(APP_DIR, 'server/legacy.sql')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
}

export function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run test/browser/setup.sh first`)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * One user: a fresh browser context (own OPFS, own clientId) with the app open
 * on `storeId`. Console lines, page errors and failed requests are kept in
 * `user.log` for failure messages, the sync client's requests in
 * `user.syncRequests`. Waits for the store to boot, unless `load: false` (then
 * the caller opens `user.url` itself, e.g. to look at the page while it boots).
 */
export async function openUser(browser, { appUrl, storeId, name, viewport = { width: 560, height: 560 }, load = true }) {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const log = []
  const at = () => new Date().toISOString().slice(11, 23)
  page.on('console', (m) => log.push(`${at()} console.${m.type()}: ${m.text().slice(0, 500)}`))
  page.on('pageerror', (e) => log.push(`${at()} pageerror: ${e.message}`))
  // Requests of the LiveStore client (page or its workers): it sends `b3` on every one.
  const syncRequests = []
  page.on('request', (r) => {
    if (r.headers().b3 !== undefined) syncRequests.push({ t: Date.now(), method: r.method(), url: r.url() })
  })
  page.on('requestfailed', (r) => log.push(`${at()} requestfailed: ${r.method()} ${r.url().slice(0, 120)} ${r.failure()?.errorText}`))
  const url = `${appUrl}/?store=${encodeURIComponent(storeId)}&user=${encodeURIComponent(name)}`
  const user = {
    name,
    context,
    page,
    log,
    syncRequests,
    url,
    logTail: (n = 40) => log.slice(-n).join('\n'),
    async load() {
      await page.goto(url)
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    },
    /** The list as rendered: [{id, text, completed}] in display order (filter: All). */
    todos: () =>
      page.$$eval('#list li', (lis) =>
        lis.map((li) => ({
          id: li.dataset.id,
          text: li.querySelector('label').textContent,
          completed: li.classList.contains('completed'),
        })),
      ),
    /** The server's rejection notices shown: [{id, text}]. */
    notices: () =>
      page.$$eval('#notices li', (lis) => lis.map((li) => ({ id: li.dataset.id, text: li.querySelector('span').textContent }))),
    close: () => context.close(),
  }
  if (load) await user.load()
  return user
}

/**
 * Wait until `predicate(todos, arg, notices)` holds in the page (notices: the
 * server's rejection notices shown, [{id, text}]), checked on every animation
 * frame; resolves to the page's Date.now() at that moment (same clock as the
 * test process, so action-to-visible latency is a subtraction).
 */
export async function seenAt(user, predicateSrc, arg, { timeout = 20_000 } = {}) {
  const handle = await user.page.waitForFunction(
    ([src, arg]) => {
      const todos = [...document.querySelectorAll('#list li')].map((li) => ({
        id: li.dataset.id,
        text: li.querySelector('label').textContent,
        completed: li.classList.contains('completed'),
      }))
      const notices = [...document.querySelectorAll('#notices li')].map((li) => ({
        id: li.dataset.id,
        text: li.querySelector('span').textContent,
      }))
      // eslint-disable-next-line no-new-func
      return new Function('todos', 'arg', 'notices', `return (${src})(todos, arg, notices)`)(todos, arg, notices)
        ? Date.now()
        : false
    },
    [predicateSrc, arg],
    { polling: 'raf', timeout },
  )
  return handle.jsonValue()
}

// The actions, as a user does them (keyboard and mouse through Playwright).
export async function addTodo(user, text) {
  await user.page.fill('#new-todo', text)
  const t0 = Date.now()
  await user.page.press('#new-todo', 'Enter')
  return t0
}
export async function toggleTodo(user, text) {
  const box = user.page.locator('#list li', { hasText: text }).locator('.toggle')
  const t0 = Date.now()
  await box.click()
  return t0
}
export async function deleteTodo(user, text) {
  const li = user.page.locator('#list li', { hasText: text })
  await li.hover()
  const t0 = Date.now()
  await li.locator('.destroy').click()
  return t0
}
export async function clearCompleted(user) {
  const t0 = Date.now()
  await user.page.click('#clear')
  return t0
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
