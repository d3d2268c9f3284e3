# Varnish (Debian's varnish 7.1) as a shared cache in front of
# livestore-gateway in built-in mode: varnishd -a :6081 -f livestore.vcl.
# The gateway says what may be kept (cache-control, including
# stale-while-revalidate, which Varnish turns into grace); Varnish's waiting
# list collapses identical pulls into one origin request and wakes the
# waiting clients as soon as the answer arrives. See deploy/varnish/README.md.
# test/scale/cache.test.mjs runs this very file (it only replaces the
# backend's port).
vcl 4.1;

backend gateway {
    .host = "127.0.0.1";
    .port = "8787";
    .connect_timeout = 2s;
    # Long polls: the gateway holds a live pull up to --long-poll-timeout
    # (20 s by default, at most 40); never cut it first.
    .first_byte_timeout = 60s;
    .between_bytes_timeout = 60s;
}

sub vcl_recv {
    # Ping (HEAD without args) must reach the gateway as a HEAD; a push is a
    # POST; neither is ever cached.
    if (req.method != "GET") {
        return (pass);
    }
    # Credentials a cache does not key on: never answer them from the cache
    # (the gateway marks such answers no-store anyway when it checks tokens).
    # A token inside args is part of the URL, hence of the cache key.
    if (req.http.Authorization || req.http.Cookie) {
        return (pass);
    }
    return (hash);
}

sub vcl_backend_response {
    # no-store / private (errors, 401/403, pushes, fault answers): not kept,
    # and only briefly remembered as such, so that later requests for the
    # same URL collapse again soon.
    if (beresp.http.Cache-Control ~ "(no-store|no-cache|private)") {
        set beresp.ttl = 1s;
        set beresp.uncacheable = true;
        return (deliver);
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
