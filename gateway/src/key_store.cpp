#include "gw/key_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "gw/log.h"

namespace gw {
namespace {

constexpr size_t kMaxDocumentBytes = 1u << 20;
constexpr int kMaxLifetimeS = 86400;

struct Download {
  std::string body;
  bool too_big = false;
  int max_age_s = -1;
  const std::atomic<bool>* stop = nullptr;
};

size_t OnBody(char* data, size_t size, size_t n, void* cls) {
  auto* d = static_cast<Download*>(cls);
  if (d->body.size() + size * n > kMaxDocumentBytes) {
    d->too_big = true;
    return 0;
  }
  d->body.append(data, size * n);
  return size * n;
}

// Cache-Control: max-age=N (no-store / no-cache: 0, i.e. the floor).
size_t OnHeader(char* data, size_t size, size_t n, void* cls) {
  auto* d = static_cast<Download*>(cls);
  std::string line(data, size * n);
  std::transform(line.begin(), line.end(), line.begin(), [](unsigned char c) { return std::tolower(c); });
  if (line.rfind("http/", 0) == 0) d->max_age_s = -1;  // a new response (after a redirect)
  if (line.rfind("cache-control:", 0) == 0) {
    if (size_t p = line.find("max-age="); p != std::string::npos) d->max_age_s = std::atoi(line.c_str() + p + 8);
    else if (line.find("no-store") != std::string::npos || line.find("no-cache") != std::string::npos) d->max_age_s = 0;
  }
  return size * n;
}

int OnProgress(void* cls, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Download*>(cls)->stop->load() ? 1 : 0;  // abort on shutdown
}

std::string KidList(const std::vector<JwtKey>& keys) {
  std::string out;
  for (const JwtKey& k : keys) {
    if (!out.empty()) out += ", ";
    out += (k.kid.empty() ? std::string("(no kid)") : k.kid) + " " + k.type;
  }
  return out;
}

}  // namespace

KeyStore::KeyStore(const Config& config, Metrics* metrics) : config_(config), metrics_(metrics) {
  enabled_ = !config.jwt_secret.empty() || !config.jwt_public_key_file.empty() || has_jwks();
  policy_.issuers = config.jwt_issuers;
  policy_.audiences = config.jwt_audiences;
  policy_.leeway_s = config.jwt_leeway_s;
  policy_.stores_claim = config.jwt_stores_claim;
  if (has_jwks()) jwks_ = std::make_shared<const JwksKeys>();
}

KeyStore::~KeyStore() { Stop(); }

bool KeyStore::Load(std::string* error) {
  if (!config_.jwt_secret.empty()) fixed_.push_back(HmacKey(config_.jwt_secret));
  if (!config_.jwt_public_key_file.empty()) {
    std::ifstream in(config_.jwt_public_key_file, std::ios::binary);
    std::stringstream pem;
    pem << in.rdbuf();
    std::vector<JwtKey> keys;
    std::string why;
    if (!in || !ParsePemKeys(pem.str(), &keys, &why)) {
      *error = "--jwt-public-key " + config_.jwt_public_key_file + ": " + (in ? why : "cannot read the file");
      return false;
    }
    LogInfo("JWT keys from %s: %s", config_.jwt_public_key_file.c_str(), KidList(keys).c_str());
    for (JwtKey& k : keys) fixed_.push_back(std::move(k));
  }
  if (!config_.jwt_jwks_file.empty()) {
    std::vector<JwtKey> keys;
    int max_age = -1;
    std::string why;
    if (!FetchOnce(&keys, &max_age, &why)) {
      *error = "--jwt-jwks-file " + config_.jwt_jwks_file + ": " + why;
      return false;
    }
    std::lock_guard<std::mutex> lock(mu_);
    last_attempt_ = Clock::now();
    last_ok_ = true;
    next_fetch_ = last_attempt_ + std::chrono::seconds(std::max(config_.jwks_cache_s, config_.jwks_min_refetch_s));
    Publish(std::move(keys));
  }
  return true;
}

void KeyStore::Start(std::function<void()> on_change) {
  if (!has_jwks()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    on_change_ = std::move(on_change);
    if (config_.jwt_jwks_file.empty()) refresh_requested_ = true;  // the first fetch, at once
  }
  thread_ = std::thread([this] { Loop(); });
}

void KeyStore::Stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// Called with mu_ held.
void KeyStore::Publish(std::vector<JwtKey> keys) {
  const std::string kids = KidList(keys);
  const std::string source = config_.jwt_jwks_url.empty() ? config_.jwt_jwks_file : config_.jwt_jwks_url;
  if (kids != last_kids_) LogInfo("JWKS %s: %zu key(s): %s", source.c_str(), keys.size(), kids.c_str());
  last_kids_ = kids;
  auto set = std::make_shared<JwksKeys>();
  set->keys = std::move(keys);
  set->loaded = true;
  jwks_ = std::move(set);
  ++generation_;
}

bool KeyStore::FetchUrl(std::string* body, int* max_age_s, std::string* error) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    *error = "curl_easy_init failed";
    return false;
  }
  Download d;
  d.stop = &stop_;
  curl_easy_setopt(easy, CURLOPT_URL, config_.jwt_jwks_url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "livestore-gateway");
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxDocumentBytes));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &d);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &d);
  const CURLcode rc = curl_easy_perform(easy);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(easy);
  if (d.too_big) {
    *error = "document larger than 1 MiB";
    return false;
  }
  if (rc != CURLE_OK) {
    *error = curl_easy_strerror(rc);
    return false;
  }
  if (status != 200) {
    *error = "HTTP status " + std::to_string(status);
    return false;
  }
  *body = std::move(d.body);
  *max_age_s = d.max_age_s;
  return true;
}

bool KeyStore::ReadFile(std::string* body, std::string* error) {
  std::ifstream in(config_.jwt_jwks_file, std::ios::binary);
  if (!in) {
    *error = "cannot read the file";
    return false;
  }
  std::string data(kMaxDocumentBytes + 1, '\0');
  in.read(&data[0], static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > kMaxDocumentBytes) {
    *error = "document larger than 1 MiB";
    return false;
  }
  *body = std::move(data);
  return true;
}

bool KeyStore::FetchOnce(std::vector<JwtKey>* keys, int* max_age_s, std::string* error) {
  std::string body;
  *max_age_s = -1;
  const bool got = config_.jwt_jwks_url.empty() ? ReadFile(&body, error) : FetchUrl(&body, max_age_s, error);
  if (!got) return false;
  std::vector<std::string> skipped;
  const bool ok = ParseJwks(body, keys, &skipped, error);
  for (const std::string& s : skipped) LogInfo("JWKS: skipped %s", s.c_str());
  return ok;
}

void KeyStore::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (!refresh_requested_ && Clock::now() < next_fetch_) {
      cv_.wait_until(lock, next_fetch_);
      continue;
    }
    refresh_requested_ = false;
    fetching_ = true;
    const Clock::time_point started = last_attempt_ = Clock::now();
    lock.unlock();
    std::vector<JwtKey> keys;
    int max_age = -1;
    std::string error;
    const bool ok = FetchOnce(&keys, &max_age, &error);
    lock.lock();
    fetching_ = false;
    last_ok_ = ok;
    if (ok) {
      failures_ = 0;
      const int lifetime =
          max_age < 0 ? config_.jwks_cache_s : std::clamp(max_age, config_.jwks_min_refetch_s, kMaxLifetimeS);
      next_fetch_ = started + std::chrono::seconds(std::max(lifetime, config_.jwks_min_refetch_s));
      Publish(std::move(keys));
    } else {
      ++failures_;
      const int cap = std::clamp(2 * config_.jwks_min_refetch_s, 2, 60);
      const int wait = std::min(cap, 1 << std::min(failures_ - 1, 6));
      next_fetch_ = started + std::chrono::seconds(wait);
      if (!stop_)
        LogError("JWKS %s: %s; keeping the %s, next try in %d s",
                 config_.jwt_jwks_url.empty() ? config_.jwt_jwks_file.c_str() : config_.jwt_jwks_url.c_str(),
                 error.c_str(), jwks_->loaded ? "last good keys" : "gateway without keys", wait);
    }
    if (metrics_) metrics_->JwksFetch(ok, jwks_->keys.size());
    auto notify = on_change_;
    lock.unlock();
    if (notify) notify();
    lock.lock();
  }
}

KeyStore::Result KeyStore::Verify(std::string_view token, int64_t now, JwtClaims* claims, std::string* error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::shared_ptr<const JwksKeys> jwks;
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      jwks = jwks_;
      generation = generation_;
    }
    const JwtVerdict v = VerifyJwtWith(token, fixed_, jwks.get(), policy_, now, claims, error);
    if (v == JwtVerdict::kValid) return Result::kValid;
    if (v == JwtVerdict::kInvalid) return Result::kInvalid;
    // The JWKS does not hold the token's key (or was never loaded).
    std::lock_guard<std::mutex> lock(mu_);
    if (generation_ != generation) continue;  // new keys arrived meanwhile: check against them
    if (fetching_ || refresh_requested_) return Result::kPending;
    if (Clock::now() - last_attempt_ >= std::chrono::seconds(config_.jwks_min_refetch_s)) {
      refresh_requested_ = true;
      cv_.notify_all();
      return Result::kPending;
    }
    // Fetched moments ago: the provider does not have that key, unless it
    // could not be reached (then it may well have it: try again later).
    return last_ok_ ? Result::kInvalid : Result::kPending;
  }
  return Result::kPending;
}

}  // namespace gw
