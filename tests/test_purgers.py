"""Each purger against a real HTTP server on loopback that records what it receives and answers as the edge would."""

import datetime
import json
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.core.exceptions import ImproperlyConfigured

from articles import workflow
from articles.edge import purgers
from articles.edge.cloudfront import CloudFrontPurger, paths_for, signature_v4
from articles.edge.purgers import CloudflarePurger, FastlyPurger, PurgeFailed, VarnishPurger, configured
from articles.models import Page
from tests.factories import TopicFactory, UserFactory, live_article, member_of, review
from tests.servers import free_port
from tests.test_settings import manage

CLOUDFRONT_CREATED = (
    b'<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
    b"<Id>I2J0I21PCUYOIK</Id><Status>InProgress</Status></Invalidation>"
)


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class Handler(BaseHTTPRequestHandler):
    def answer(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        received = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.server.received.append(received)
        status, reply = self.server.respond(received)
        time.sleep(self.server.delay)
        self.send_response(status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_PURGE = do_POST = do_GET = answer

    def log_message(self, *args):
        pass


class EdgeServer(ThreadingHTTPServer):
    """Records every request; answers with `respond(received) -> (status, body)`, after `delay` seconds."""

    daemon_threads = True  # a handler still sleeping through a timeout test must not hold up the shutdown

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[Received] = []
        self.respond = lambda received: (200, b"")
        self.delay = 0.0
        self.url = f"http://127.0.0.1:{self.server_port}"


@pytest.fixture
def edge():
    server = EdgeServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def failure(purger, tags=("site",)) -> str:
    """Purge, expecting PurgeFailed and nothing else; return its message."""
    with pytest.raises(PurgeFailed) as raised:
        purger.purge(list(tags))
    return str(raised.value)


# Varnish


def test_varnish_purges_every_tag_in_one_purge_request(edge):
    edge.respond = lambda received: (200, b'{"purged": 3}')
    purger = VarnishPurger(url=edge.url + "/")

    purger.purge(["article-7", "articles-en", "topic-2", "article-7"])

    [request] = edge.received
    assert (request.method, request.path) == ("PURGE", "/")
    assert request.headers["xkey-purge"] == "article-7 articles-en topic-2"
    assert purger.name == f"Varnish at {edge.url}"
    assert purger.response_headers(["article-7"]) == {}


def test_nothing_to_purge_sends_nothing(edge):
    VarnishPurger(url=edge.url).purge([])
    assert edge.received == []


def test_varnish_answering_anything_but_200_is_a_failure(edge):
    edge.respond = lambda received: (405, b"Purging not allowed from 10.0.0.9")
    message = failure(VarnishPurger(url=edge.url))
    assert f"Varnish at {edge.url} answered HTTP 405" in message
    assert "Purging not allowed from 10.0.0.9" in message
    assert "allows purges from this server" in message


def test_a_tag_that_could_purge_something_else_is_refused_before_anything_is_sent(edge):
    for tag in ("article-1 site", "Article-1", "a,b", "", 7):
        assert "is not a tag" in failure(VarnishPurger(url=edge.url), [tag])
    assert edge.received == []


# Failures any edge may have: the shared transport


def test_an_edge_that_does_not_answer_in_time_fails_within_the_timeout(edge, settings):
    settings.EDGE_PURGE_TIMEOUT = 0.3
    edge.delay = 2
    message = failure(VarnishPurger(url=edge.url))  # gave up before the server answered
    assert message == f"Varnish at {edge.url} did not answer within 0.3 seconds. The purge will be tried again."


def test_an_edge_that_is_not_listening_is_a_failure_naming_it():
    url = f"http://127.0.0.1:{free_port()}"
    for purger in (
        VarnishPurger(url=url),
        CloudflarePurger(zone_id="z", api_token="t", api_url=url),
        FastlyPurger(service_id="s", api_token="t", api_url=url),
    ):
        assert failure(purger) == purgers.REFUSED.format(name=purger.name)
        assert "refused the connection: check that it is running" in failure(purger)


def test_an_edge_whose_name_does_not_resolve_is_a_failure():
    message = failure(VarnishPurger(url="http://varnish.invalid:6081", timeout=2))
    assert message.startswith("Varnish at http://varnish.invalid:6081 could not be reached (")


def test_a_token_no_request_can_carry_is_a_failure_that_does_not_show_it(edge):
    message = failure(CloudflarePurger(zone_id="z", api_token="secret\nX-Injected: 1", api_url=edge.url))
    assert message == purgers.UNSENDABLE.format(name="Cloudflare zone z")
    assert "secret" not in message
    assert edge.received == []


def test_an_edge_that_hangs_up_without_answering_is_a_failure(edge):
    class HangUp(Handler):
        def answer(self):
            self.server.received.append(self.command)  # and close the connection without a word

        do_PURGE = do_POST = answer

    edge.RequestHandlerClass = HangUp
    assert "could not be reached" in failure(VarnishPurger(url=edge.url))


# Cloudflare


def cloudflare_success(received):
    return 200, json.dumps({"success": True, "errors": [], "messages": [], "result": {"id": "abc"}}).encode()


def test_cloudflare_purges_tags_through_its_api_with_the_token(edge):
    edge.respond = cloudflare_success
    purger = CloudflarePurger(zone_id="023e105f4ecef8ad9ca31a8372d0c353", api_token="cf-token", api_url=edge.url)

    purger.purge(["article-7", "site"])

    [request] = edge.received
    assert (request.method, request.path) == ("POST", "/zones/023e105f4ecef8ad9ca31a8372d0c353/purge_cache")
    assert request.headers["authorization"] == "Bearer cf-token"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"tags": ["article-7", "site"]}
    assert purger.name == "Cloudflare zone 023e105f4ecef8ad9ca31a8372d0c353"
    assert purger.response_headers(["article-7", "site"]) == {"Cache-Tag": "article-7,site"}


def test_cloudflare_gets_at_most_its_documented_limit_of_tags_a_request(edge):
    edge.respond = cloudflare_success
    tags = [f"article-{pk}" for pk in range(CloudflarePurger.MAX_TAGS * 2 + 5)]

    CloudflarePurger(zone_id="z", api_token="t", api_url=edge.url).purge(tags)

    assert CloudflarePurger.MAX_TAGS == 100
    assert [len(r.json()["tags"]) for r in edge.received] == [100, 100, 5]
    assert [tag for r in edge.received for tag in r.json()["tags"]] == tags


def test_cloudflare_saying_success_false_is_a_failure_with_its_reason(edge):
    edge.respond = lambda received: (
        403,
        json.dumps({"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}).encode(),
    )
    message = failure(CloudflarePurger(zone_id="z", api_token="t", api_url=edge.url))
    assert message == "Cloudflare zone z refused the purge (HTTP 403): Authentication error (code 10000)."


def test_cloudflare_answering_200_without_success_true_is_a_failure(edge):
    for reply in ({"success": False, "errors": []}, {"result": None}, ["success"]):
        edge.respond = lambda received, reply=reply: (200, json.dumps(reply).encode())
        assert "refused the purge (HTTP 200): no reason given" in failure(
            CloudflarePurger(zone_id="z", api_token="t", api_url=edge.url)
        )


def test_cloudflare_answering_something_other_than_json_is_a_failure(edge):
    edge.respond = lambda received: (502, b"<html><body>Bad gateway</body></html>")
    message = failure(CloudflarePurger(zone_id="z", api_token="t", api_url=edge.url))
    assert message == (
        "Cloudflare zone z answered HTTP 502 with '<html><body>Bad gateway</body></html>', not the JSON it sends."
    )


def test_a_failure_after_some_chunks_says_how_far_it_got(edge):
    edge.respond = lambda received: (
        cloudflare_success(received) if len(edge.received) == 1 else (429, b'{"success": false, "errors": []}')
    )
    tags = [f"article-{pk}" for pk in range(150)]
    message = failure(CloudflarePurger(zone_id="z", api_token="t", api_url=edge.url), tags)
    assert message.endswith("The first 100 of 150 tags were purged; the rest were not.")


# Fastly


def fastly_success(received):
    return 200, json.dumps({key: f"108-{n}" for n, key in enumerate(received.json()["surrogate_keys"])}).encode()


def test_fastly_hard_purges_surrogate_keys_through_its_api(edge):
    edge.respond = fastly_success
    purger = FastlyPurger(service_id="SU1Z0isxPaozGVKXdv0eY", api_token="fastly-token", api_url=edge.url)

    purger.purge(["article-7", "disclaimers-es"])

    [request] = edge.received
    assert (request.method, request.path) == ("POST", "/service/SU1Z0isxPaozGVKXdv0eY/purge")
    assert request.headers["fastly-key"] == "fastly-token"
    assert "fastly-soft-purge" not in request.headers  # a retraction must never be served stale
    assert request.json() == {"surrogate_keys": ["article-7", "disclaimers-es"]}
    assert purger.name == "Fastly service SU1Z0isxPaozGVKXdv0eY"
    assert purger.response_headers(["article-7"]) == {}  # Fastly reads Surrogate-Key itself


def test_fastly_gets_at_most_256_keys_a_request(edge):
    edge.respond = fastly_success
    tags = [f"staff-{pk}" for pk in range(600)]
    FastlyPurger(service_id="s", api_token="t", api_url=edge.url).purge(tags)
    assert [len(r.json()["surrogate_keys"]) for r in edge.received] == [256, 256, 88]


def test_fastly_refusing_is_a_failure_with_its_reason(edge):
    edge.respond = lambda received: (401, b'{"msg": "Provided credentials are missing or invalid"}')
    message = failure(FastlyPurger(service_id="s", api_token="t", api_url=edge.url))
    assert message == "Fastly service s refused the purge (HTTP 401): Provided credentials are missing or invalid."


def test_fastly_leaving_a_key_unconfirmed_is_a_failure(edge):
    edge.respond = lambda received: (200, b'{"article-7": "108-1"}')
    message = failure(FastlyPurger(service_id="s", api_token="t", api_url=edge.url), ["article-7", "site"])
    assert message == "Fastly service s did not confirm purging site."


# CloudFront


def test_the_signature_matches_aws_published_example():
    # "Examples of the complete Signature Version 4 signing process" (AWS General Reference): IAM ListUsers.
    headers = signature_v4(
        method="GET",
        url="https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        body=b"",
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        service="iam",
        now=datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.UTC),
    )
    assert headers == {
        "X-Amz-Date": "20150830T123600Z",
        "Authorization": (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        ),
    }


SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def botocore_signature(received: Received, url: str) -> str:
    """The signature botocore, AWS's own library, computes for the request the server received: a check of ours
    by another implementation. (Its add_auth() would sign at the current time, so its steps are called here.)"""
    signed_names = received.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(
        method=received.method,
        url=url + received.path,
        data=received.body,
        headers={name: received.headers[name] for name in signed_names},
    )
    request.context["timestamp"] = received.headers["x-amz-date"]
    botocore = SigV4Auth(Credentials("AKIDEXAMPLE", SECRET), "cloudfront", "us-east-1")
    return botocore.signature(botocore.string_to_sign(request, botocore.canonical_request(request)), request)


def cloudfront_purger(url: str) -> CloudFrontPurger:
    return CloudFrontPurger(
        distribution_id="EDFDVBD6EXAMPLE", access_key_id="AKIDEXAMPLE", secret_access_key=SECRET, api_url=url
    )


def test_cloudfront_invalidates_the_paths_of_the_tags_in_one_signed_batch(edge, db):
    edge.respond = lambda received: (201, CLOUDFRONT_CREATED)
    purger = cloudfront_purger(edge.url)

    purger.purge(["articles-es", "disclaimers-es"])
    purger.purge(["page-999999", "topic-999999"])  # deleted: their addresses are unknown

    first, _ = edge.received
    assert (first.method, first.path) == ("POST", "/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation")
    assert first.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert (
        "/us-east-1/cloudfront/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
        in (first.headers["authorization"])
    )
    assert first.headers["authorization"].endswith(f", Signature={botocore_signature(first, edge.url)}")
    tampered = Received(first.method, first.path, first.headers, first.body.replace(b"/es/", b"/"))
    assert not first.headers["authorization"].endswith(f", Signature={botocore_signature(tampered, edge.url)}")
    first_batch, second_batch = (ET.fromstring(r.body) for r in edge.received)  # noqa: S314 - our own requests
    ns = {"cf": "http://cloudfront.amazonaws.com/doc/2020-05-31/"}
    items = [path.text for path in first_batch.findall("cf:Paths/cf:Items/cf:Path", ns)]
    assert first_batch.findtext("cf:Paths/cf:Quantity", namespaces=ns) == str(len(items)) == "7"
    assert items == ["/es/", "/es/topics/*", "/es/search/*", "/es/feeds/*", "/es/corrections/*", "/sitemap.xml",
                     "/es/articles/*"]  # fmt: skip
    assert [path.text for path in second_batch.findall("cf:Paths/cf:Items/cf:Path", ns)] == ["/*"]
    references = [batch.findtext("cf:CallerReference", namespaces=ns) for batch in (first_batch, second_batch)]
    assert len(set(references)) == 2  # each batch is new to CloudFront, never a repeat
    assert all(references)
    assert purger.response_headers(["site"]) == {}


def test_cloudfront_refusing_is_a_failure_with_its_code_and_advice(edge, db):
    edge.respond = lambda received: (
        400,
        b'<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error>'
        b"<Type>Sender</Type><Code>TooManyInvalidationsInProgress</Code><Message>Processing your request will "
        b"cause you to exceed the maximum number of in-progress wildcard invalidations.</Message></Error>"
        b"<RequestId>1</RequestId></ErrorResponse>",
    )
    message = failure(cloudfront_purger(edge.url))
    assert message.startswith(
        "CloudFront distribution EDFDVBD6EXAMPLE refused the invalidation (HTTP 400): TooManyInvalidationsInProgress:"
    )
    assert message.endswith("CloudFront is still working through earlier ones; it will be tried again.")
    edge.respond = lambda received: (503, b"Service Unavailable")
    assert failure(cloudfront_purger(edge.url)).endswith("(HTTP 503): 'Service Unavailable'.")


def test_cloudfront_paths_cover_every_address_an_article_was_published_at(db):
    article = live_article(slug="exosomes")
    article.slug = "exosomes-and-wound-healing"
    article.save()
    review(article)
    workflow.publish(article, by=member_of("Editors"))
    spanish = live_article(title="Exosomas", language="es", slug="exosomas")

    assert sorted(paths_for([f"article-{article.pk}"])) == [
        "/articles/exosomes-and-wound-healing/*",  # its page, leaflet and feedback form
        "/articles/exosomes/*",  # and the old address, which now redirects
    ]
    assert paths_for([f"article-{spanish.pk}"]) == ["/es/articles/exosomas/*"]


def test_cloudfront_paths_of_lists_topics_pages_and_people(db):
    topic = TopicFactory(slug="wound-care")
    page = Page.objects.create(title="Privacidad", slug="privacidad", language="es", body="<p>Poco.</p>")

    assert paths_for(["articles-es"]) == [
        "/es/",
        "/es/articles/",
        "/es/articles/?*",
        "/es/topics/*",
        "/es/search/*",
        "/es/feeds/*",
        "/es/corrections/*",
        "/sitemap.xml",
    ]
    assert paths_for([f"topic-{topic.pk}"]) == [
        "/topics/wound-care/*",
        "/feeds/topics/wound-care.rss",
        "/feeds/topics/wound-care.atom",
        "/es/topics/wound-care/*",
        "/es/feeds/topics/wound-care.rss",
        "/es/feeds/topics/wound-care.atom",
    ]
    assert paths_for([f"page-{page.pk}"]) == ["/about/privacidad/", "/es/about/privacidad/"]
    assert paths_for(["disclaimers-es"]) == ["/es/articles/*"]
    assert paths_for([f"staff-{UserFactory().staff_profile.pk}"]) == ["/*"]  # on every article page naming them
    assert paths_for(["site", f"topic-{topic.pk}"]) == ["/*"]


def test_cloudfront_paths_drop_what_a_wildcard_in_the_batch_covers(db):
    topic = TopicFactory(slug="wound-care")
    paths = paths_for([f"topic-{topic.pk}", "articles-en", "disclaimers-en"])
    assert paths == ["/es/topics/wound-care/*", "/es/feeds/topics/wound-care.rss",
                     "/es/feeds/topics/wound-care.atom", "/", "/topics/*", "/search/*", "/feeds/*",
                     "/corrections/*", "/sitemap.xml", "/articles/*"]  # fmt: skip


def test_cloudfront_paths_fall_back_to_everything_past_its_wildcard_limit(db):
    topics = [TopicFactory() for _ in range(16)]
    assert paths_for([f"topic-{topic.pk}" for topic in topics[:2]]) != ["/*"]
    assert paths_for([f"topic-{topic.pk}" for topic in topics]) == ["/*"]  # 32 wildcards: more than 15
    assert paths_for(["article-0"]) == []  # never published: no page to invalidate
    for unknown in ("articles-fr", "comment-7", "newsletter"):  # tags this mapping does not know yet
        assert paths_for([unknown]) == ["/*"]


def test_cloudfront_sends_nothing_when_no_address_shows_the_tags(edge, db):
    cloudfront_purger(edge.url).purge(["article-0"])  # never published
    assert edge.received == []


# configured(): settings.EDGE_PURGERS


def test_no_edge_configured_means_no_purgers(settings):
    settings.EDGE_PURGERS = []
    assert configured() == []


def test_configured_builds_each_edge_from_settings_once(settings):
    settings.EDGE_PURGERS = [
        {"BACKEND": "varnish", "URL": "http://varnish-1:6081"},
        {"BACKEND": "varnish", "URL": "http://varnish-2:6081", "TIMEOUT": 1.5},
        {"BACKEND": "cloudflare", "ZONE_ID": "zone", "API_TOKEN": "t", "API_URL": "http://127.0.0.1:1/v4"},
        {"BACKEND": "fastly", "SERVICE_ID": "service", "API_TOKEN": "t"},
        {"BACKEND": "cloudfront", "DISTRIBUTION_ID": "E1", "ACCESS_KEY_ID": "k", "SECRET_ACCESS_KEY": "s"},
    ]
    built = configured()
    assert [purger.name for purger in built] == [
        "Varnish at http://varnish-1:6081",
        "Varnish at http://varnish-2:6081",
        "Cloudflare zone zone",
        "Fastly service service",
        "CloudFront distribution E1",
    ]
    assert [purger.timeout for purger in built[:2]] == [3.0, 1.5]
    assert built[2].api_url == "http://127.0.0.1:1/v4"
    assert built[3].api_url == "https://api.fastly.com"
    assert configured()[0] is built[0]  # built once for the same settings
    settings.EDGE_PURGERS = settings.EDGE_PURGERS[:1]
    assert [purger.name for purger in configured()] == ["Varnish at http://varnish-1:6081"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"BACKEND": "akamai"}, "EDGE_PURGERS[0] has no known BACKEND ('akamai'); it is one of varnish, cloudflare"),
        ("varnish", "EDGE_PURGERS[0] has no known BACKEND ('varnish')"),
        ({"BACKEND": "varnish"}, 'the "varnish" purger\'s URL is not an http(s) address such as http://varnish'),
        ({"BACKEND": "varnish", "URL": "varnish:6081"}, "URL is not an http(s) address"),
        ({"BACKEND": "varnish", "URL": "http://varnish/purge"}, "URL is not an http(s) address"),
        ({"BACKEND": "varnish", "URL": "http://v:port"}, "URL is not an http(s) address"),
        ({"BACKEND": "varnish", "URL": "http://user:password@varnish"}, "URL is not an http(s) address"),
        (
            {"BACKEND": "cloudflare", "ZONE_ID": "z"},
            'the "cloudflare" purger needs API_TOKEN; set CLOUDFLARE_API_TOKEN',
        ),
        ({"BACKEND": "cloudflare", "ZONE_ID": "z", "API_TOKEN": "t", "API_URL": "ftp://x"}, "API_URL is not an http"),
        ({"BACKEND": "fastly", "API_TOKEN": "t"}, 'the "fastly" purger needs SERVICE_ID; set FASTLY_SERVICE_ID'),
        ({"BACKEND": "cloudfront", "DISTRIBUTION_ID": "E1"}, "needs ACCESS_KEY_ID; set AWS_ACCESS_KEY_ID and AWS_SEC"),
        (
            {"BACKEND": "fastly", "SERVICE_ID": "s", "API_TOKEN": "t", "ZONE": "z"},
            "takes no ZONE; its options are SERVICE_ID,",
        ),
    ],
)
def test_bad_configuration_is_refused_with_what_to_set(settings, entry, message):
    settings.EDGE_PURGERS = [entry]
    with pytest.raises(ImproperlyConfigured) as raised:
        configured()
    assert message in str(raised.value)


EDGE_VARIABLES = [
    "VARNISH_PURGE_URLS", "EDGE_PURGE_TIMEOUT", "CLOUDFLARE_ZONE_ID", "CLOUDFLARE_API_TOKEN", "FASTLY_SERVICE_ID",
    "FASTLY_API_TOKEN", "CLOUDFRONT_DISTRIBUTION_ID", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
]  # fmt: skip


def production(**edges: str) -> dict[str, str]:
    """Production settings with only these edge variables set (empty counts as unset)."""
    return {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64), **dict.fromkeys(EDGE_VARIABLES, ""), **edges}


def test_the_environment_configures_the_edges():
    code = (
        "from articles.edge.purgers import configured; from django.conf import settings as s; "
        "print(s.EDGE_PURGE_TIMEOUT, [p.name for p in configured()])"
    )
    every_edge = production(
        VARNISH_PURGE_URLS="http://varnish-1:6081, http://varnish-2:6081", EDGE_PURGE_TIMEOUT="2",
        CLOUDFLARE_ZONE_ID="zone", CLOUDFLARE_API_TOKEN="token", FASTLY_SERVICE_ID="service", FASTLY_API_TOKEN="t",
        CLOUDFRONT_DISTRIBUTION_ID="E1", AWS_ACCESS_KEY_ID="AKID", AWS_SECRET_ACCESS_KEY="secret",
    )  # fmt: skip
    result = manage("shell", "-c", code, **every_edge)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "2.0 ['Varnish at http://varnish-1:6081', 'Varnish at http://varnish-2:6081', 'Cloudflare zone zone', "
        "'Fastly service service', 'CloudFront distribution E1']"
    )
    # AWS keys alone are for image storage, not CloudFront; an empty environment purges nothing.
    for environment in (production(AWS_ACCESS_KEY_ID="AKID", AWS_SECRET_ACCESS_KEY="secret"), production()):
        result = manage("shell", "-c", code, **environment)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "3.0 []"


def test_an_edge_configured_by_halves_refuses_to_start():
    for environment, message in [
        (production(CLOUDFLARE_ZONE_ID="zone"), "To purge cloudflare, set CLOUDFLARE_API_TOKEN too"),
        (production(CLOUDFLARE_API_TOKEN="token"), "To purge cloudflare, set CLOUDFLARE_ZONE_ID too"),
        (production(FASTLY_SERVICE_ID="service"), "To purge fastly, set FASTLY_API_TOKEN too"),
        (production(CLOUDFRONT_DISTRIBUTION_ID="E1"), "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY too"),
        (production(VARNISH_PURGE_URLS="varnish:6081"), "Set VARNISH_PURGE_URLS to Varnish addresses"),
    ]:
        result = manage("check", **environment)
        assert result.returncode != 0, environment
        assert message in result.stderr, environment


def test_purgers_never_raise_anything_but_purge_failed(edge, db):
    """Whatever an edge answers, the caller sees PurgeFailed or success, never another exception."""
    outcomes = []
    replies = [(200, b"\xff\xfe"), (200, b"null"), (200, b"[]"), (500, b""), (201, b"<not xml"), (200, b"{}")]
    for status, body in replies:
        edge.respond = lambda received, status=status, body=body: (status, body)
        for purger in (
            VarnishPurger(url=edge.url),
            CloudflarePurger(zone_id="z", api_token="t", api_url=edge.url),
            FastlyPurger(service_id="s", api_token="t", api_url=edge.url),
            cloudfront_purger(edge.url),
        ):
            try:
                purger.purge(["site"])
                outcomes.append("purged")
            except PurgeFailed as error:
                outcomes.append("failed" if str(error).startswith(purger.name) else str(error))
    assert set(outcomes) <= {"purged", "failed"}
    assert "failed" in outcomes
