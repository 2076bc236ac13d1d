"""CloudFront, which cannot purge by tag: each tag becomes the addresses that show it, invalidated by path.

CloudFront bills invalidation by path (the first 1,000 paths a month are free, then $0.005 each) and counts a
path ending in `*` as one path however much it matches; it allows 3,000 plain paths and 15 wildcard paths in
progress per distribution at a time. So `paths_for` prefers one wildcard where a tag's pages share a prefix, drops
what another wildcard in the same batch covers, and falls back to `/*` when a batch would exceed those limits
(a batch over them would be refused however often it was tried).

Requests are signed with AWS Signature Version 4 from the standard library, not boto3, which the site has no
other use for.
"""

import datetime
import hashlib
import hmac
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from django.conf import settings
from django.db import DatabaseError

from articles.edge.purgers import PurgeFailed, Purger, excerpt, http_address, required
from articles.languages import url_in
from articles.models import Page, PublishedSnapshot, Topic

API_VERSION = "2020-05-31"
XML_NAMESPACE = f"http://cloudfront.amazonaws.com/doc/{API_VERSION}/"
EVERYTHING = "/*"
MAX_PATHS = 3000  # plain paths in progress per distribution
MAX_WILDCARDS = 15  # wildcard paths in progress per distribution


def _every(language: str, viewname: str, **kwargs) -> str:
    """A wildcard over every page of the kind `viewname` is one of: /es/topics/* for topic_detail in Spanish."""
    return url_in(language, viewname, **kwargs).rstrip("/").rsplit("/", 1)[0] + "/*"


def _addresses_for(tag: str) -> list[str]:
    """The addresses showing what `tag` names (a `*` at the end matches anything after, query strings too)."""
    kind, _, key = tag.partition("-")
    languages = [code for code, _ in settings.LANGUAGES]
    if tag == "site":
        return [EVERYTHING]  # the header and footer are on every page
    if kind == "disclaimers" and key in languages:
        return [url_in(key, "articles:article_list") + "*"]  # every article page in that language, and its list
    if kind == "articles" and key in languages:
        return [
            url_in(key, "articles:home"),
            url_in(key, "articles:article_list"),
            url_in(key, "articles:article_list") + "?*",  # its further pages, not every article under it
            _every(key, "articles:topic_detail", slug="any"),
            url_in(key, "articles:search") + "*",  # every query
            _every(key, "articles:feed_rss"),  # the site's feeds and every topic's
            url_in(key, "articles:correction_list") + "*",
            url_in(settings.LANGUAGE_CODE, "articles:sitemap"),  # one sitemap, at the root, for all languages
        ]
    if not key.isdigit():
        return [EVERYTHING]  # a tag this mapping does not know yet: better the whole site than a stale page
    pk = int(key)
    if kind == "article":
        # Every address the article was ever published at, in its language: its page, leaflet and feedback form.
        published = PublishedSnapshot.objects.filter(article_id=pk).values_list("language", "slug").distinct()
        return [url_in(language, "articles:article_detail", slug=slug) + "*" for language, slug in published]
    if kind == "topic":
        topic = Topic.objects.filter(pk=pk).values_list("slug", flat=True).first()
        if topic is None:  # deleted: its old address is unknown, so every topic page and feed
            return [
                _every(code, name, slug="any")
                for code in languages
                for name in ("articles:topic_detail", "articles:topic_feed_rss")
            ]
        return [
            address
            for code in languages
            for address in (
                url_in(code, "articles:topic_detail", slug=topic) + "*",  # its further pages too
                url_in(code, "articles:topic_feed_rss", slug=topic),
                url_in(code, "articles:topic_feed_atom", slug=topic),
            )
        ]
    if kind == "page":
        slug = Page.objects.filter(pk=pk).values_list("slug", flat=True).first()
        # A page lives at its own language's address and redirects from the others', which its language can change.
        return [url_in(code, "articles:page", slug=slug) for code in languages] if slug else [EVERYTHING]
    if kind == "staff":
        # Their bio, and every article page naming them as author or reviewer: possibly hundreds of addresses,
        # more wildcards than CloudFront takes at once, for a change as rare as a person's name or photo.
        return [EVERYTHING]
    return [EVERYTHING]  # as for any tag this mapping does not know


def paths_for(tags: list[str]) -> list[str]:
    """The CloudFront invalidation paths that cover every address showing any of `tags`, each once."""
    paths = list(dict.fromkeys(path for tag in tags for path in _addresses_for(tag)))
    prefixes = [path[:-1] for path in paths if path.endswith("*")]
    needed = [path for path in paths if not any(path.startswith(p) and path != p + "*" for p in prefixes)]
    wildcards = sum(path.endswith("*") for path in needed)
    if EVERYTHING in needed or wildcards > MAX_WILDCARDS or len(needed) - wildcards > MAX_PATHS:
        return [EVERYTHING]
    return needed


def invalidation_batch(paths: list[str], caller_reference: str) -> bytes:
    """The XML body of CreateInvalidation."""
    batch = ET.Element("InvalidationBatch", xmlns=XML_NAMESPACE)
    listed = ET.SubElement(batch, "Paths")
    ET.SubElement(listed, "Quantity").text = str(len(paths))
    items = ET.SubElement(listed, "Items")
    for path in paths:  # ASCII: Django's slug converter admits nothing else
        ET.SubElement(items, "Path").text = path
    ET.SubElement(batch, "CallerReference").text = caller_reference
    return ET.tostring(batch, encoding="utf-8", xml_declaration=True)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature_v4(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    service: str,
    now: datetime.datetime,
) -> dict[str, str]:
    """The X-Amz-Date and Authorization headers that sign this request (AWS Signature Version 4).

    `headers` are the request's other headers; all of them are signed, with Host (taken from `url`).
    """
    parts = urllib.parse.urlsplit(url)
    timestamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    signed = {name.lower(): " ".join(str(value).split()) for name, value in headers.items()}
    signed |= {"host": parts.netloc, "x-amz-date": timestamp}
    signed_names = ";".join(sorted(signed))
    query = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    canonical_request = "\n".join(
        [
            method,
            urllib.parse.quote(parts.path or "/", safe="/-_.~"),
            "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in query),
            *(f"{name}:{signed[name]}" for name in sorted(signed)),
            "",
            signed_names,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{timestamp[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", timestamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = f"AWS4{secret_access_key}".encode()
    for step in (timestamp[:8], region, service, "aws4_request"):
        key = _hmac(key, step)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Amz-Date": timestamp,
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={signed_names}, Signature={signature}"
        ),
    }


class CloudFrontPurger(Purger):
    """A CloudFront distribution: each purge is one invalidation of the paths that show the tags."""

    API_URL = "https://cloudfront.amazonaws.com"
    REGION = "us-east-1"  # CloudFront is a global service, signed for this region whatever the distribution's

    def __init__(self, *, distribution_id="", access_key_id="", secret_access_key="", api_url="", timeout=None):
        super().__init__(timeout=timeout)
        self.distribution = required(distribution_id, "DISTRIBUTION_ID", "cloudfront", "set CLOUDFRONT_DISTRIBUTION_ID")
        hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a user allowed cloudfront:CreateInvalidation)"
        self.access_key_id = required(access_key_id, "ACCESS_KEY_ID", "cloudfront", hint)
        self.secret_access_key = required(secret_access_key, "SECRET_ACCESS_KEY", "cloudfront", hint)
        self.api_url = http_address(api_url or self.API_URL, "API_URL", "cloudfront")
        self.name = f"CloudFront distribution {self.distribution}"

    def send(self, tags):
        try:
            paths = paths_for(tags)
        except DatabaseError as error:  # paths_for reads the database, which may be unreachable
            raise PurgeFailed(f"The addresses to invalidate at {self.name} could not be read: {error}") from error
        if not paths:
            return
        body = invalidation_batch(paths, caller_reference=f"clinic-{uuid.uuid4()}")
        url = f"{self.api_url}/{API_VERSION}/distribution/{urllib.parse.quote(self.distribution, safe='')}/invalidation"
        headers = {"Content-Type": "application/xml"}
        headers |= signature_v4(
            method="POST", url=url, headers=headers, body=body,
            access_key_id=self.access_key_id, secret_access_key=self.secret_access_key,
            region=self.REGION, service="cloudfront", now=datetime.datetime.now(datetime.UTC),
        )  # fmt: skip
        headers["Host"] = urllib.parse.urlsplit(url).netloc  # exactly the host that was signed
        status, reply = self.exchange("POST", url, headers=headers, body=body)
        if status != 201:
            raise PurgeFailed(f"{self.name} refused the invalidation (HTTP {status}): {aws_error(reply)}")


def aws_error(reply: bytes) -> str:
    """The code and message of an AWS XML error reply, or its start."""
    try:
        error = ET.fromstring(reply).find(".//{*}Error")  # noqa: S314 - a bounded reply from the configured API
    except ET.ParseError:
        error = None
    if error is None:
        return f"{excerpt(reply, 160)}."
    code, message = error.findtext("{*}Code", ""), error.findtext("{*}Message", "")
    advice = {
        "TooManyInvalidationsInProgress": " CloudFront is still working through earlier ones; it will be tried again.",
        "AccessDenied": " The AWS key needs cloudfront:CreateInvalidation on this distribution.",
        "NoSuchDistribution": " Check CLOUDFRONT_DISTRIBUTION_ID.",
    }
    return f"{code}: {message.rstrip('.')}.{advice.get(code, '')}"
