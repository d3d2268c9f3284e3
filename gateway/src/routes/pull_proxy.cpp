// Proxy mode: the pull goes to Electric (URL as makeElectricUrl builds it)
// and Electric's answer comes back as it arrives: same status, same headers,
// body unbuffered. Three things are added on the way, all invisible to
// Electric: flagged offsets (so the client's sync leader is released at
// once after a page with events); the client's position ("@<seqNum>",
// offset.h), with which a 409 (shape rotated) is followed for the client
// instead of being passed on (upstream.h); and, when Electric cannot be
// reached, an empty 200 at the client's own position instead of an error.
#include <cstring>

#include "gw/electric_url.h"
#include "gw/log.h"
#include "gw/offset.h"
#include "gw/routes.h"
#include "gw/upstream.h"
#include "livestore/core/store_id.h"

namespace gw {
namespace {

bool HopByHop(const std::string& name) {
  return name == "connection" || name == "keep-alive" || name == "transfer-encoding" ||
         name == "content-length" || name == "content-encoding" || name == "te" || name == "trailer" ||
         name == "upgrade" || name == "proxy-connection" || name.rfind("access-control-", 0) == 0 ||
         name == "vary";  // CORS and Vary are ours to set (never doubled)
}

MHD_Result EmptyPage(Server& s, Request& r, const std::string& handle, const std::string& offset) {
  return s.Reply(r, 200, "[]",
                 {{"electric-handle", handle}, {"electric-offset", offset}, {"electric-has-data", "false"},
                  {"cache-control", "no-store"}},
                 "application/json; charset=utf-8");
}

ssize_t ReadBody(void* cls, uint64_t, char* buf, size_t max) noexcept {
  ProxyTransfer* t = static_cast<std::shared_ptr<ProxyTransfer>*>(cls)->get();
  std::lock_guard<std::mutex> lock(t->mu);
  if (t->client_gone) return MHD_CONTENT_READER_END_WITH_ERROR;  // seen closed while suspended
  size_t avail = t->buffer.size() - t->read_pos;
  if (avail > 0) {
    size_t n = std::min(avail, max);
    std::memcpy(buf, t->buffer.data() + t->read_pos, n);
    t->read_pos += n;
    if (t->read_pos == t->buffer.size()) {
      t->buffer.clear();
      t->read_pos = 0;
      if (t->paused && t->owner) t->owner->Wake();  // let the paused transfer go on
    }
    return static_cast<ssize_t>(n);
  }
  if (t->done) return t->result == CURLE_OK ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
  // Nothing yet: wait for the curl thread to resume us (never busy-loop).
  t->suspended = true;
  MHD_suspend_connection(t->conn);
  return 0;
}

void FreeBody(void* cls) noexcept { delete static_cast<std::shared_ptr<ProxyTransfer>*>(cls); }

}  // namespace

MHD_Result StartProxyPull(Server& s, Request& r, const PullArgs& args) {
  const std::string table = ls::TableName(args.store_id);
  if (!args.has_handle) {
    // needsInit, as the reference proxy does: the table must exist for Electric.
    PgError err;
    if (!s.db().Exec(Stmt::kCreateStore, {args.store_id.c_str()}, &err))
      LogError("create store %s: %s %s", args.store_id.c_str(), err.sqlstate.c_str(), err.message.c_str());
  }
  // Electric's offset, and the client's last seqNum when carried or known.
  const ProxyOffset position = ParseProxyOffset(Unflag(args.offset));
  const std::string& offset = position.upstream;
  const bool initial = !args.has_handle || offset == "-1";
  std::optional<int64_t> seq = position.seq;
  if (initial) seq = 0;
  else if (!seq) seq = s.upstream()->positions().Find(args.handle, offset);
  if (args.has_handle && args.live && IsFlagged(args.offset))
    return EmptyPage(s, r, args.handle, FormatProxyOffset(offset, seq));

  ElectricTarget target{s.config().electric_url, s.config().electric_secret, s.config().electric_source_id,
                        s.config().electric_source_secret};
  auto t = std::make_shared<ProxyTransfer>();
  t->conn = r.conn;
  if (const MHD_ConnectionInfo* info = MHD_get_connection_info(r.conn, MHD_CONNECTION_INFO_CONNECTION_FD))
    t->client_fd = info->connect_fd;
  t->url = MakeElectricUrl(target, table, args, offset);
  t->base_url = ShapeBaseUrl(target, table);
  t->client_seq = seq;
  t->retry_until = r.start + std::chrono::seconds(s.config().long_poll_timeout_s);
  t->client_handle = args.has_handle ? args.handle : "pending";
  t->client_offset = initial ? "-1" : FormatProxyOffset(offset, seq);
  r.proxy = t;
  {
    std::lock_guard<std::mutex> lock(t->mu);
    t->suspended = true;
    MHD_suspend_connection(r.conn);
  }
  s.upstream()->Submit(t);
  return MHD_YES;
}

MHD_Result HandleProxyPull(Server& s, Request& r) {
  std::shared_ptr<ProxyTransfer> t = r.proxy;
  std::unique_lock<std::mutex> lock(t->mu);
  if (t->response_started) return MHD_YES;
  // The curl thread saw the client's socket closed while it was suspended:
  // no answer, MHD closes the connection (logged 499).
  if (t->client_gone) return MHD_NO;
  if (!t->headers_done) {
    // Electric unreachable until the poll's deadline, or shutdown.
    lock.unlock();
    return EmptyPage(s, r, t->client_handle, t->client_offset);
  }
  t->response_started = true;
  const long status = t->status;
  Headers headers;
  bool has_data = true;
  for (const auto& [name, value] : t->headers)
    if (name == "electric-has-data" && value == "false") has_data = false;
  for (const auto& [name, value] : t->headers) {
    if (HopByHop(name)) continue;
    if (name != "electric-offset" || t->recovered || (status != 200 && status != 204)) headers.emplace_back(name, value);
    else if (has_data && status == 200) headers.emplace_back(name, Flag(value));  // position learnt while streaming
    else headers.emplace_back(name, FormatProxyOffset(value, t->client_seq));     // no events: same position
  }
  // The whole body is here (the curl thread resumes a client for the end of
  // its transfer, or once the body is long enough to stream: upstream.cpp).
  std::shared_ptr<std::string> whole;
  if (t->done && t->result == CURLE_OK) {
    whole = std::make_shared<std::string>(std::move(t->buffer));  // taken, not copied
    whole->erase(0, t->read_pos);
    t->buffer.clear();
    t->read_pos = 0;
  }
  lock.unlock();

  MHD_Response* resp;
  if (status == 204 || status == 304) {
    resp = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
  } else if (whole) {
    const std::string_view body = *whole;
    resp = Server::BuildParts(std::move(whole), {body}, {}, nullptr);
  } else {
    // The response holds a reference to the transfer until MHD frees it.
    auto* cls = new std::shared_ptr<ProxyTransfer>(t);
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, &ReadBody, cls, &FreeBody);
    if (resp == nullptr) delete cls;
  }
  if (resp == nullptr) return MHD_NO;
  for (const auto& [name, value] : headers) MHD_add_response_header(resp, name.c_str(), value.c_str());
  return s.Queue(r, static_cast<int>(status), resp);
}

}  // namespace gw
