// The page: reads the list (store id) and user from the URL, boots LiveStore
// with OPFS storage behind a shared worker, renders the todos and commits an
// event for every user action. Everything else (storage, sync) is the worker's.
import { makePersistedAdapter } from '@livestore/adapter-web'
import LiveStoreSharedWorker from '@livestore/adapter-web/shared-worker?sharedworker'
import { createStorePromise, nanoid, queryDb } from '@livestore/livestore'

import LiveStoreWorker from './livestore.worker.ts?worker'
import { events, isLegacy, schema, SyncPayload, todos } from './schema.ts'

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T

// ?store=<list id>&user=<name>[&gateway=<url>][&token=<auth token>]
// With an identity provider in ./config.json (make demo: server/idp.mjs), the
// page signs the user in there and sends the token to the gateway.
const url = new URL(location.href)
let storeId = url.searchParams.get('store') ?? ''
if (!/^[A-Za-z0-9_-]+$/.test(storeId)) {
  // A new list: give it an id and put it in the address bar, ready to share.
  storeId = `list-${nanoid(8).replace(/[^A-Za-z0-9]/g, 'x')}`
  url.searchParams.set('store', storeId)
  history.replaceState(null, '', url)
}
const user = url.searchParams.get('user') || 'guest'
$('#store').textContent = storeId
$('#user').textContent = user
document.title = `${storeId} · todos`
const config = await loadConfig()
let endpoint = url.searchParams.get('gateway') || config.gateway || `${location.protocol}//${location.hostname}:8787/api/electric`
let authToken = url.searchParams.get('token') ?? undefined
let expiresAt: number | undefined

/** ./config.json (written by the demo server): the gateway, and the identity provider if any. */
async function loadConfig(): Promise<{ gateway?: string; idp?: string }> {
  try {
    const res = await fetch(new URL('config.json', location.href))
    if (res.ok) {
      const { gateway, idp } = await res.json()
      return { gateway: typeof gateway === 'string' ? gateway : undefined, idp: typeof idp === 'string' ? idp : undefined }
    }
  } catch {}
  return {}
}

// --- signing in --------------------------------------------------------------
// The token (a JWT the gateway verifies against the provider's JWKS) travels
// the two ways the stock sync client can carry it to another origin: in the
// endpoint's query string (kept on pulls, pushes and pings) and in the sync
// payload (pulls). Both are fixed for the life of the store in this browser
// (the shared worker refuses another payload while a tab of the list is
// open), so a token is valid for a working day (server/idp.mjs) and the page
// asks for a reload before it expires (SECURITY.md, "Long sessions").
const authBanner = $('#auth')
if (!authToken && config.idp) {
  try {
    const res = await fetch(`${config.idp}/token?user=${encodeURIComponent(user)}`)
    const signedIn = await res.json()
    authToken = signedIn.token
    expiresAt = signedIn.expiresAt
  } catch (e) {
    console.error('sign-in failed', e)
  }
  if (authToken) endpoint = `${endpoint}?token=${encodeURIComponent(authToken)}`
}
if (config.idp && authToken) {
  // Who may open a list is decided by the gateway (server/memberships.sql). A
  // refused pull would stop the sync client silently: ask once, as it would.
  const args = { _tag: '@livestore/sync-electric.Pull', storeId, payload: { endpoint, authToken }, handle: { _tag: 'None' }, live: false }
  const status = await fetch(`${endpoint}?args=${encodeURIComponent(JSON.stringify(args))}`).then((r) => r.status, () => 0)
  if (status === 401 || status === 403) {
    authBanner.textContent = status === 403
      ? `${user} is not a member of this list: the gateway refused to open it. Its owner can add you (todomvc.memberships).`
      : `The gateway did not accept ${user}'s sign-in.`
    authBanner.hidden = false
    const input = $<HTMLInputElement>('#new-todo')
    input.placeholder = status === 403 ? 'Not a member of this list' : 'Not signed in'
    document.body.dataset.ready = status === 403 ? 'refused' : 'unauthorized'
    await new Promise(() => {})  // nothing more to do on this page
  }
}
if (expiresAt !== undefined) {
  const at = new Date(expiresAt).toLocaleTimeString()
  const warn = () => {
    authBanner.textContent = `${user}'s sign-in expires at ${at}: reload the page (all its tabs) before then to keep syncing. The list stays in this browser.`
    authBanner.hidden = false
  }
  const expired = () => {
    authBanner.textContent = `${user}'s sign-in expired at ${at}: this page no longer syncs. Reload to sign in again.`
    authBanner.hidden = false
  }
  setTimeout(warn, Math.max(0, expiresAt - Date.now() - 5 * 60_000))
  setTimeout(expired, Math.max(0, expiresAt - Date.now()))
}

// Checked at the same moment the sync client makes its first contact (see the end).
const reachable = () =>
  fetch(endpoint, { method: 'HEAD', mode: 'no-cors', cache: 'no-store' }).then(() => true, () => false)
const reachableAtLoad = reachable()

// The new-todo input stays disabled ("Loading…", index.html) until the store
// has booted: there is nothing to commit a typed todo to before that.
const input = $<HTMLInputElement>('#new-todo')
const store = await createStorePromise({
  schema,
  storeId,
  adapter: makePersistedAdapter({
    storage: { type: 'opfs' },
    worker: LiveStoreWorker,
    sharedWorker: LiveStoreSharedWorker,
  }),
  syncPayloadSchema: SyncPayload,
  syncPayload: { endpoint, ...(authToken ? { authToken } : {}) },
  disableDevtools: true,
}).catch((e) => {
  input.placeholder = 'This list could not be opened in this browser (details in the console)'
  throw e
})

// --- rendering -------------------------------------------------------------
type Todo = typeof todos.Type
type Filter = 'all' | 'active' | 'completed'
const filterOf = (): Filter => (location.hash === '#/active' ? 'active' : location.hash === '#/completed' ? 'completed' : 'all')
let all: ReadonlyArray<Todo> = [] // rejected ones included

// A todo the server rejected (v1.TodoRejected, see server/hooks.sql) leaves
// the list, and a notice says why, in every browser of the list, until this
// browser dismisses it (kept in localStorage: dismissing is not synced).
const dismissedKey = `todomvc.dismissed.${storeId}`
const dismissed = new Set<string>(JSON.parse(localStorage.getItem(dismissedKey) ?? '[]'))
const dismiss = (id: string) => {
  dismissed.add(id)
  localStorage.setItem(dismissedKey, JSON.stringify([...dismissed]))
  render()
}

const render = () => {
  const filter = filterOf()
  const live = all.filter((t) => t.rejected == null)
  const shown = live.filter((t) => (filter === 'all' ? true : filter === 'active' ? !t.completed : t.completed))
  const list = $('#list')
  list.replaceChildren(
    ...shown.map((t) => {
      const li = document.createElement('li')
      li.dataset.id = t.id
      li.classList.toggle('completed', t.completed)
      const toggle = document.createElement('input')
      toggle.type = 'checkbox'
      toggle.className = 'toggle'
      toggle.checked = t.completed
      toggle.onchange = () =>
        store.commit(toggle.checked ? events.todoCompleted({ id: t.id }) : events.todoUncompleted({ id: t.id }))
      const label = document.createElement('label')
      label.textContent = t.text
      const by = document.createElement('span')
      by.className = 'by'
      by.textContent = t.createdBy
      // A row of todos_legacy (server/legacy.sql): shown, not changed here.
      // The old backend's table is its source of truth; an UPDATE or DELETE
      // there reaches every browser.
      if (isLegacy(t.id)) {
        li.classList.add('legacy')
        li.title = 'A row of the Postgres table todos_legacy: change it there'
        toggle.disabled = true
        li.append(toggle, label, by)
        return li
      }
      const destroy = document.createElement('button')
      destroy.className = 'destroy'
      destroy.title = 'Delete'
      destroy.onclick = () => store.commit(events.todoDeleted({ id: t.id }))
      li.append(toggle, label, by, destroy)
      return li
    }),
  )
  const left = live.filter((t) => !t.completed).length
  $('#count').textContent = `${left} ${left === 1 ? 'item' : 'items'} left`
  $('#clear').hidden = !live.some((t) => t.completed && !isLegacy(t.id)) // Clear completed leaves legacy todos
  $('#footer').hidden = live.length === 0
  $('#notices').replaceChildren(
    ...all
      .filter((t) => t.rejected != null && !dismissed.has(t.id))
      .map((t) => {
        const li = document.createElement('li')
        li.dataset.id = t.id
        const text = document.createElement('span')
        text.textContent = `“${t.text}” was rejected by the server: ${t.rejected}`
        const close = document.createElement('button')
        close.className = 'dismiss'
        close.title = 'Dismiss'
        close.textContent = '×'
        close.onclick = () => dismiss(t.id)
        li.append(text, close)
        return li
      }),
  )
  for (const a of document.querySelectorAll<HTMLAnchorElement>('.filters a')) {
    a.classList.toggle('selected', a.getAttribute('href') === `#/${filter === 'all' ? '' : filter}`)
  }
}

store.subscribe(queryDb(todos.orderBy([{ col: 'createdAt', direction: 'asc' }, { col: 'id', direction: 'asc' }])), (rows) => {
  all = rows
  render()
})
window.addEventListener('hashchange', render)
input.disabled = false
input.placeholder = 'What needs to be done?'
input.focus()

// --- actions ---------------------------------------------------------------
$('#new').addEventListener('submit', (e) => {
  e.preventDefault()
  const text = input.value.trim()
  if (!text) return
  store.commit(events.todoCreated({ id: nanoid(), text, createdBy: user, createdAt: Date.now() }))
  input.value = ''
})
$('#clear').addEventListener('click', () => store.commit(events.todoClearedCompleted({})))

// --- a gateway that was down when the page loaded ------------------------
// When the gateway is unreachable at load, the sync client (LiveStore 0.4.0)
// fails its first ping and pull and then stops for the rest of the page's
// life (README: "When the gateway is down"). The app keeps working locally,
// so say so, and offer a reload once the gateway answers again.
const banner = $('#banner')
if (!(await reachableAtLoad)) {
  banner.hidden = false
  banner.dataset.state = 'down'
  const poll = setInterval(async () => {
    if (!(await reachable())) return
    clearInterval(poll)
    banner.dataset.state = 'back'
  }, 3000)
}
$('#reload').addEventListener('click', () => location.reload())

document.body.dataset.ready = 'true'
