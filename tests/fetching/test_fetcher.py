"""fetching/fetcher.py: every misbehaviour of the local server ends in one expected Outcome
(guard on); redirects, validators and limits on httpx.MockTransport; a resolver bug is
an internal error, never raised."""

from __future__ import annotations

import hashlib
import socket
import uuid

import httpx
import pytest

from fetching import FetchRequest, Outcome, Validators
from fetching.guard import IPAddress
from tests.fetching.conftest import Harness
from tests.fetching.mock_transport import PAGE, Handler, Recorder, page, respond, sequence
from tests.fetching.server import LAST_MODIFIED, Request, TestServer, html, response

pytestmark = pytest.mark.anyio


def key() -> str:
    """A unique path segment, so per-path counters never collide between tests."""
    return uuid.uuid4().hex[:12]


async def test_ok_page(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/ok"))
    assert result.outcome is Outcome.OK
    assert result.status_code == 200
    assert result.text is not None and "Some text" in result.text
    assert result.charset == "utf-8"
    assert result.content_type == "text/html"
    assert len(result.attempts) == 1
    assert result.attempts[0].outcome is Outcome.OK
    assert result.attempts[0].bytes == len(result.body or b"")
    assert result.ok


async def test_request_carries_user_agent_and_encodings(harness: Harness) -> None:
    url = harness.server.url(f"/ok/{key()}")
    await harness.fetch(url)
    (entry,) = harness.server.entries(prefix=url.split(str(harness.server.port))[1])
    assert entry.headers["user-agent"] == "recite/0.1 (+tests)"
    assert entry.headers["accept-encoding"] == "gzip, deflate"
    assert entry.headers["host"] == f"site.test:{harness.server.port}"


async def test_a_cookie_set_by_a_response_is_sent_back(harness: Harness) -> None:
    # A cookie wall: the page answers only a client that kept the cookie its redirect set.
    # make_client's short send path (client.FetchClient) must keep cookies as httpx's does.
    path = f"/cookie-wall/{key()}"

    def wall(req: Request, sock: socket.socket, srv: TestServer) -> None:
        headers = {"Location": f"{path}/in", "Set-Cookie": "seen=1; Path=/"}
        sock.sendall(response(302, b"", headers))

    def room(req: Request, sock: socket.socket, srv: TestServer) -> None:
        seen = req.headers.get("cookie") == "seen=1"
        sock.sendall(html() if seen else html(b"<p>no cookie</p>", status=403))

    harness.server.route(f"{path}/in", room)
    harness.server.route(path, wall)
    result = await harness.fetch(harness.server.url(path))
    assert result.outcome is Outcome.OK, result.error
    assert result.redirect_chain == (harness.server.url(path),)


@pytest.mark.parametrize("code", [404, 410])
async def test_client_errors_are_http_4xx_without_retry(harness: Harness, code: int) -> None:
    result = await harness.fetch(harness.server.url(f"/status/{code}"))
    assert result.outcome is Outcome.HTTP_4XX
    assert result.status_code == code
    assert len(result.attempts) == 1
    assert result.body is None


async def test_500_then_200_is_ok_after_one_retry(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url(f"/flaky/{key()}"))
    assert result.outcome is Outcome.OK
    assert [a.status_code for a in result.attempts] == [500, 200]
    assert [a.outcome for a in result.attempts] == [Outcome.HTTP_5XX, Outcome.OK]
    assert [a.attempt for a in result.attempts] == [1, 2]


async def test_500_forever_is_http_5xx_after_max_attempts(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/status/500"))
    assert result.outcome is Outcome.HTTP_5XX
    assert len(result.attempts) == 3


async def test_small_retry_after_is_honoured(harness: Harness) -> None:
    path = f"/retry-after/1/{key()}"
    result = await harness.fetch(harness.server.url(path))
    assert result.outcome is Outcome.OK
    assert [a.status_code for a in result.attempts] == [503, 200]
    first, second = harness.server.entries(prefix=path)
    assert second.arrived - first.arrived >= 0.95


async def test_retry_after_http_date_in_the_past_retries_at_once(harness: Harness) -> None:
    path = f"/retry-after/Wed,_21_Oct_2015_07:28:00_GMT/{key()}"
    result = await harness.fetch(harness.server.url(path))
    assert result.outcome is Outcome.OK
    assert len(result.attempts) == 2


async def test_huge_retry_after_stops_with_retry_later(harness: Harness) -> None:
    path = f"/retry-after/3600/{key()}"
    result = await harness.fetch(harness.server.url(path))
    assert result.outcome is Outcome.RETRY_LATER
    assert len(result.attempts) == 1
    assert result.status_code == 503
    assert result.error is not None and "3600" in result.error
    assert len(harness.server.entries(prefix=path)) == 1


async def test_429_is_retried_then_retry_later(harness: Harness) -> None:
    path = f"/429/{key()}"
    result = await harness.fetch(harness.server.url(path))
    assert result.outcome is Outcome.RETRY_LATER
    assert [a.status_code for a in result.attempts] == [429, 429, 429]
    assert all(a.outcome is Outcome.HTTP_4XX for a in result.attempts)


async def test_redirect_loop(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/loop/a"))
    assert result.outcome is Outcome.REDIRECT_LOOP
    assert result.redirect_chain == (
        harness.server.url("/loop/a"),
        harness.server.url("/loop/b"),
    )
    assert len(result.attempts) == 1  # not retried


async def test_ten_redirects_are_too_many(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/chain/10"))
    assert result.outcome is Outcome.TOO_MANY_REDIRECTS
    assert len(result.redirect_chain) == 6  # max_redirects=5 followed, the 6th refused


async def test_redirects_within_limit_are_followed(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/chain/5"))
    assert result.outcome is Outcome.OK
    assert result.final_url == harness.server.url("/chain/0")
    assert result.redirect_chain == tuple(
        harness.server.url(f"/chain/{n}") for n in range(5, 0, -1)
    )
    assert result.attempts[0].redirect_chain == result.redirect_chain


async def test_redirect_to_private_name_is_blocked_on_the_hop(harness: Harness) -> None:
    harness.resolver.answers["intranet.test"] = ["10.0.0.7"]
    target = harness.server.url("/ok", host="intranet.test")
    result = await harness.fetch(harness.server.url(f"/redirect?to={target}"))
    assert result.outcome is Outcome.BLOCKED_ADDRESS
    assert result.final_url == target
    assert result.error is not None and "10.0.0.7" in result.error
    assert not harness.server.entries(host="intranet.test")
    assert all(host == "93.184.216.34" for host, _ in harness.backend.connects)


async def test_redirect_to_loopback_literal_is_blocked(harness: Harness) -> None:
    target = f"http://127.0.0.1:{harness.server.port}/ok"
    result = await harness.fetch(harness.server.url(f"/redirect?to={target}"))
    assert result.outcome is Outcome.BLOCKED_ADDRESS


async def test_redirect_to_metadata_service_is_blocked(harness: Harness) -> None:
    target = "http://169.254.169.254/latest/meta-data/"
    result = await harness.fetch(harness.server.url(f"/redirect?to={target}"))
    assert result.outcome is Outcome.BLOCKED_ADDRESS
    assert result.error is not None and "metadata" in result.error


async def test_redirect_to_other_scheme_is_blocked(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/redirect?to=file:///etc/passwd"))
    assert result.outcome is Outcome.BLOCKED_ADDRESS


async def test_redirect_without_location_is_http_3xx(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/status/302"))
    assert result.outcome is Outcome.HTTP_3XX


async def test_endless_body_is_too_large(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/endless"))
    assert result.outcome is Outcome.TOO_LARGE
    assert result.body is None


async def test_slow_drip_times_out_near_total_timeout(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/drip"), total_timeout=1.0)
    assert result.outcome is Outcome.TIMEOUT
    assert len(result.attempts) == 1  # a total-cap timeout is not retried
    assert result.attempts[0].elapsed_ms >= 950


async def test_connection_reset_mid_body(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/reset"), max_attempts=1)
    assert result.outcome in (Outcome.CONNECT_ERROR, Outcome.PROTOCOL_ERROR)
    assert result.error


async def test_wrong_content_length(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/short-body"))
    assert result.outcome is Outcome.PROTOCOL_ERROR
    assert result.error is not None


async def test_gzip_bomb_stops_on_decoded_bytes(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/gzip-bomb"))
    assert result.outcome is Outcome.TOO_LARGE
    assert result.error is not None and "decoding" in result.error


async def test_gzip_page_is_decoded(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/gzipped"))
    assert result.outcome is Outcome.OK
    assert result.text is not None and "Hello" in result.text
    assert result.attempts[0].bytes < len(result.body or b"")


async def test_binary_served_as_html(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/binary"))
    assert result.outcome is Outcome.DECODE_ERROR
    assert result.error is not None and "binary" in result.error


async def test_png_served_as_html(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/png-as-html"))
    assert result.outcome is Outcome.UNSUPPORTED_TYPE
    assert result.error is not None and "image/png" in result.error


async def test_pdf_is_unsupported_and_named(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/pdf"))
    assert result.outcome is Outcome.UNSUPPORTED_TYPE
    assert result.error is not None and "PDF" in result.error


async def test_empty_200(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/empty"))
    assert result.outcome is Outcome.EMPTY_BODY


async def test_huge_headers(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/huge-headers"))
    assert result.outcome is Outcome.PROTOCOL_ERROR


async def test_garbage_status_line(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/garbage"))
    assert result.outcome is Outcome.PROTOCOL_ERROR


async def test_server_closes_without_response(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/close"))
    assert result.outcome is Outcome.PROTOCOL_ERROR


async def test_missing_type_sniffed_as_html(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/no-type/html"))
    assert result.outcome is Outcome.OK
    assert result.content_type == "text/html"


async def test_missing_type_plain_text_is_unsupported(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/no-type/text"))
    assert result.outcome is Outcome.UNSUPPORTED_TYPE


async def test_canonical_link_page_is_just_ok(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/canonical"))
    assert result.outcome is Outcome.OK
    assert result.text is not None and 'rel="canonical"' in result.text


async def test_etag_then_304(harness: Harness) -> None:
    url = harness.server.url("/etag")
    first = await harness.fetch(url)
    assert first.outcome is Outcome.OK
    assert first.body is not None
    assert first.validators == Validators(
        etag='"v1"', last_modified=None, body_sha256=hashlib.sha256(first.body).hexdigest()
    )
    second = await harness.fetch(FetchRequest(url, first.validators))
    assert second.outcome is Outcome.NOT_MODIFIED
    assert second.status_code == 304
    assert second.body is None and second.text is None
    assert second.validators.etag == '"v1"'
    # A 304 has no body: the digest of the stored one stays.
    assert second.validators.body_sha256 == first.validators.body_sha256


async def test_the_same_body_again_is_not_modified(harness: Harness) -> None:
    """Issue 16: most servers send no validator; the body's digest is recite's own."""
    url = harness.server.url("/ok")
    first = await harness.fetch(url)
    assert first.outcome is Outcome.OK and first.validators.body_sha256 is not None
    again = await harness.fetch(FetchRequest(url, Validators(body_sha256=first.validators.body_sha256)))
    assert again.outcome is Outcome.NOT_MODIFIED
    assert again.status_code == 200 and again.body is None and again.text is None
    assert again.validators.body_sha256 == first.validators.body_sha256
    other = await harness.fetch(FetchRequest(url, Validators(body_sha256="0" * 64)))
    assert other.outcome is Outcome.OK and other.body == first.body


async def test_last_modified_then_304(harness: Harness) -> None:
    url = harness.server.url("/last-modified")
    first = await harness.fetch(url)
    assert first.outcome is Outcome.OK
    assert first.validators.last_modified == LAST_MODIFIED
    second = await harness.fetch(FetchRequest(url, first.validators))
    assert second.outcome is Outcome.NOT_MODIFIED
    # The 304 carried no validators: the stored ones are kept.
    assert second.validators.last_modified == LAST_MODIFIED


async def test_unresolvable_host_is_dns_error(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/ok", host="nxdomain.test"))
    assert result.outcome is Outcome.DNS_ERROR
    assert len(result.attempts) == 1


def closed_port() -> int:
    """A port nobody listens on: bind, read the port, close."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_connection_refused_is_connect_error_and_retried(harness: Harness) -> None:
    url = f"http://site.test:{closed_port()}/"
    result = await harness.fetch(url, max_attempts=2, respect_robots=False)
    assert result.outcome is Outcome.CONNECT_ERROR
    assert len(result.attempts) == 2  # connect errors are retried


async def test_unreachable_robots_reports_the_network_failure(harness: Harness) -> None:
    url = f"http://site.test:{closed_port()}/"
    result = await harness.fetch(url, max_attempts=2)
    # robots.txt unreachable → disallow all for this run (RFC 9309 §2.3.1.4), reported
    # as the network failure it is, and not retried (the cached answer cannot change).
    assert result.outcome is Outcome.CONNECT_ERROR
    assert result.error is not None and "robots.txt unreachable" in result.error
    assert len(result.attempts) == 1


async def test_broken_chunked_encoding(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/bad-chunk"))
    assert result.outcome is Outcome.PROTOCOL_ERROR


async def test_chunked_page_is_ok(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/chunked"))
    assert result.outcome is Outcome.OK
    assert result.text is not None and "Hello" in result.text


async def test_undefined_status_code(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/odd-status"))
    assert result.outcome is Outcome.PROTOCOL_ERROR
    assert result.status_code == 999


async def test_204_no_content_is_empty_body(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/status/204"))
    assert result.outcome is Outcome.EMPTY_BODY


async def test_gzip_label_on_plain_body(harness: Harness) -> None:
    result = await harness.fetch(harness.server.url("/fake-gzip"))
    assert result.outcome is Outcome.PROTOCOL_ERROR
    assert result.error is not None and "gzip" in result.error


async def test_server_that_never_answers_times_out_and_is_retried(harness: Harness) -> None:
    result = await harness.fetch(
        harness.server.url("/silent"), read_timeout=0.3, max_attempts=2
    )
    assert result.outcome is Outcome.TIMEOUT
    assert len(result.attempts) == 2  # a read timeout (not the total cap) is retried
    assert all(a.elapsed_ms >= 250 for a in result.attempts)


class ExplodingResolver:
    """A resolver with a bug."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        if host.startswith("boom"):
            raise RuntimeError("resolver bug: kaboom")
        from ipaddress import ip_address

        return [ip_address("93.184.216.34")]


async def test_unexpected_exception_becomes_internal_error(harness: Harness) -> None:
    harness.resolver = ExplodingResolver()  # type: ignore[assignment]
    urls = [
        harness.server.url("/ok", host="fine.test"),
        harness.server.url("/ok", host="boom.test"),
    ]
    async with harness.fetcher(respect_robots=False) as fetcher:
        single = await fetcher.fetch(FetchRequest(urls[1]))
        many = await fetcher.fetch_many([FetchRequest(u) for u in urls])
    assert single.outcome is Outcome.INTERNAL_ERROR
    assert single.error is not None and "kaboom" in single.error
    assert single.attempts[0].outcome is Outcome.INTERNAL_ERROR
    assert [r.outcome for r in many] == [Outcome.OK, Outcome.INTERNAL_ERROR]


async def test_httpx_errors_are_translated_with_their_text() -> None:
    rec = Recorder(sequence(httpx.ReadError("connection reset by peer")), max_attempts=1)
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.CONNECT_ERROR
    assert result.error is not None and "connection reset by peer" in result.error


def redirects(table: dict[str, tuple[int, str]]) -> Handler:
    """Redirect per path from `table`; any other path is a page."""

    def handler(request: httpx.Request) -> httpx.Response:
        hop = table.get(request.url.path)
        if hop is None:
            return page()
        return respond(hop[0], Location=hop[1])

    return handler


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_each_redirect_status_is_followed(code: int) -> None:
    rec = Recorder(redirects({"/old": (code, "/new")}))
    result = await rec.fetch("http://a.test/old")
    assert result.outcome is Outcome.OK
    assert result.final_url == "http://a.test/new"
    assert result.redirect_chain == ("http://a.test/old",)


async def test_relative_and_cross_host_locations() -> None:
    rec = Recorder(redirects({"/a/b": (302, "../c?x=1#frag"), "/c": (301, "https://b.test/d")}))
    result = await rec.fetch("http://a.test/a/b")
    assert result.outcome is Outcome.OK
    assert result.redirect_chain == ("http://a.test/a/b", "http://a.test/c?x=1")
    assert result.final_url == "https://b.test/d"
    assert str(rec.requests[-1].url) == "https://b.test/d"


async def test_max_redirects_boundary() -> None:
    table = {f"/{n}": (302, f"/{n - 1}") for n in range(1, 10)}
    ok = await Recorder(redirects(table), max_redirects=3).fetch("http://a.test/3")
    assert ok.outcome is Outcome.OK and len(ok.redirect_chain) == 3
    over = await Recorder(redirects(table), max_redirects=3).fetch("http://a.test/4")
    assert over.outcome is Outcome.TOO_MANY_REDIRECTS


async def test_self_redirect_is_a_loop() -> None:
    rec = Recorder(redirects({"/me": (302, "http://a.test/me#again")}))
    result = await rec.fetch("http://a.test/me")
    assert result.outcome is Outcome.REDIRECT_LOOP
    assert len(rec.requests) == 1


async def test_conditional_headers_are_sent_on_every_hop() -> None:
    rec = Recorder(redirects({"/old": (301, "/new")}))
    await rec.fetch("http://a.test/old", Validators(etag='"e1"', last_modified="Tue, 1 Jan 2030"))
    for request in rec.requests:
        assert request.headers["if-none-match"] == '"e1"'
        assert request.headers["if-modified-since"] == "Tue, 1 Jan 2030"


async def test_unconditional_request_sends_no_validators() -> None:
    rec = Recorder(sequence(page(ETag='"x"', **{"Last-Modified": "Wed, 2 Jan 2030"})))
    result = await rec.fetch("http://a.test/")
    assert "if-none-match" not in rec.requests[0].headers
    assert (result.validators.etag, result.validators.last_modified) == ('"x"', "Wed, 2 Jan 2030")


async def test_304_to_an_unconditional_request_is_http_3xx() -> None:
    result = await Recorder(sequence(respond(304))).fetch("http://a.test/")
    assert result.outcome is Outcome.HTTP_3XX


async def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    response = respond(200, b"<p>x</p>", Content_Type="text/html", Content_Length="999999999")
    result = await Recorder(sequence(response)).fetch("http://a.test/")
    assert result.outcome is Outcome.TOO_LARGE
    assert result.error is not None and "Content-Length" in result.error


async def test_unknown_content_encoding_is_unsupported() -> None:
    response = respond(200, b"\x00\x01", Content_Type="text/html", Content_Encoding="br")
    result = await Recorder(sequence(response)).fetch("http://a.test/")
    assert result.outcome is Outcome.UNSUPPORTED_TYPE


async def test_xhtml_is_accepted() -> None:
    response = respond(200, PAGE, Content_Type="application/xhtml+xml; charset=UTF-8")
    result = await Recorder(sequence(response)).fetch("http://a.test/")
    assert result.outcome is Outcome.OK
    assert result.content_type == "application/xhtml+xml"


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_redirect_not_followed_when_asked(code: int) -> None:
    location = "/web/20130615120000/http://example.com/"
    rec = Recorder(redirects({"/old": (code, location)}))
    result = await rec.fetch(FetchRequest("http://a.test/old", follow_redirects=False))
    assert result.outcome is Outcome.HTTP_3XX
    assert result.status_code == code
    assert result.final_url == "http://a.test/old"
    assert dict(result.headers)["location"] == location
    assert len(result.attempts) == 1  # not retried
    assert result.attempts[0].status_code == code
    assert [str(r.url) for r in rec.requests] == ["http://a.test/old"]


async def test_redirect_not_followed_without_location_keeps_headers() -> None:
    rec = Recorder(sequence(respond(302, Vary="accept-datetime")))
    result = await rec.fetch(FetchRequest("http://a.test/", follow_redirects=False))
    assert result.outcome is Outcome.HTTP_3XX
    assert result.status_code == 302
    assert dict(result.headers)["vary"] == "accept-datetime"
    assert result.error is not None and "Location" in result.error


async def test_page_with_follow_redirects_false_is_ok() -> None:
    result = await Recorder(sequence(page())).fetch(
        FetchRequest("http://a.test/", follow_redirects=False)
    )
    assert result.outcome is Outcome.OK


async def test_extra_headers_are_sent_on_every_hop() -> None:
    rec = Recorder(redirects({"/old": (301, "https://b.test/new")}))
    date = "Sat, 15 Jun 2013 12:00:00 GMT"
    result = await rec.fetch(
        FetchRequest("http://a.test/old", headers=(("Accept-Datetime", date),))
    )
    assert result.outcome is Outcome.OK
    assert len(rec.requests) == 2
    for request in rec.requests:
        assert request.headers["accept-datetime"] == date
        assert request.headers["user-agent"]  # the client's defaults are kept


async def test_extra_headers_go_with_validators() -> None:
    rec = Recorder(sequence(page()))
    await rec.fetch(
        FetchRequest("http://a.test/", Validators(etag='"e1"'), headers=(("X-Test", "1"),))
    )
    assert rec.requests[0].headers["if-none-match"] == '"e1"'
    assert rec.requests[0].headers["x-test"] == "1"


async def test_not_followed_redirect_is_still_guarded(harness: Harness) -> None:
    harness.resolver.answers["intranet.test"] = ["10.0.0.7"]
    url = harness.server.url("/ok", host="intranet.test")
    result = await harness.fetch(FetchRequest(url, follow_redirects=False))
    assert result.outcome is Outcome.BLOCKED_ADDRESS
    assert not harness.server.entries(host="intranet.test")
