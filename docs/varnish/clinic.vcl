# Varnish in front of the clinic site: public pages kept for as long as they say (an hour with purging on), and
# forgotten by tag the moment the app says they changed. Needs Varnish 7 and varnish-modules (xkey):
#   apt-get install varnish varnish-modules
# and the app told where to purge: VARNISH_PURGE_URLS=http://127.0.0.1:6081 (docs/deploy.md, "Purging the edge").
# The test suite and the benchmark run this very file (tests/servers.py varnish()), with the backend's port
# changed to theirs.
vcl 4.1;

import std;
import xkey;

# The app (gunicorn). TLS ends before Varnish (nginx or hitch), which sets X-Forwarded-Proto.
backend app {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}

# Who may purge: the app servers.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Not allowed to purge"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "Name the tags to purge in the xkey-purge header"));
        }
        # A hard purge: a retraction must never be served from a stale copy.
        set req.http.n-gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.n-gone + " objects"));
    }
    # Staff areas and anything but reading go straight to the app, with their cookies.
    if (req.url ~ "^/(admin|review|staff|reach)/" || (req.method != "GET" && req.method != "HEAD")) {
        return (pass);
    }
    # Public pages are the same for everyone and read no cookie: without this, a staff member's session
    # cookie would make every page they read a miss.
    unset req.http.Cookie;
    return (hash);
}

sub vcl_hash {
    # Feeds and the sitemap write absolute addresses: the scheme is part of the page.
    hash_data(req.http.X-Forwarded-Proto);
}

sub vcl_backend_response {
    if (beresp.http.Surrogate-Key) {
        # xkey files the object under each tag; the app names them (articles/edge/tags.py).
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    } elsif (bereq.url !~ "^/static/") {
        # Only what names its tags can be purged, so only that is kept (static files are named by content).
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # The TTL is the response's own s-maxage (Varnish reads Cache-Control); no grace beyond what it allows.
    if (!beresp.http.Cache-Control ~ "stale-while-revalidate") {
        set beresp.grace = 0s;
    }
}

sub vcl_deliver {
    # The tags are for this cache only; the app's Surrogate-Key stays for a CDN in front, if any.
    unset resp.http.xkey;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
