"""Every page reachable from the navigation of the demo renders, in Bahasa Indonesia and in
English, for every demo user (one per role) — and no link leads a user to a page they may not see.
"""

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.demo import data
from tests.fixtures import login_as

HREF = re.compile(r'href="(/[^"#]*)"')
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def post_form(client, page_url, action, data):
    """Post like a browser: with the CSRF token of the page the form is on."""
    page = client.get(page_url).get_data(as_text=True)
    tokens = CSRF.findall(page)
    if tokens:
        data = {**data, "csrf_token": tokens[0]}
    return client.post(action, data=data)


MAX_PAGES = 120


def crawl(client, start="/beranda"):
    seen, queue, visited = set(), [start], []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        visited.append((url, response.status_code))
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        for href in HREF.findall(response.get_data(as_text=True)):
            href = href.replace("&amp;", "&")
            path = urlsplit(href).path
            if path.startswith("/static/") or path in ("/keluar",):
                continue
            # one page of each list is enough: drop pagination and filter variations
            key = path if "page=" in href or "?" in href else href
            if key not in seen:
                queue.append(key)
    return visited


@pytest.mark.demo_database
@pytest.mark.parametrize("email", [u[0] for u in data.USERS])
@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_linked_page_renders(demo_app, email, locale):
    from app.auth.models import User
    from app.extensions import db, limiter

    with demo_app.app_context():
        limiter.reset()  # every request of this test comes from one address
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user is not None, email
        # signed in as a sign-in would (tests/auth test the sign-in page itself)
        client = login_as(demo_app.test_client(), user)
    assert post_form(client, "/beranda", "/bahasa", {"locale": locale}).status_code == 302
    try:
        visited = crawl(client)
        bad = [(url, code) for url, code in visited if code != 200]
        assert bad == [], f"{email} ({locale}) followed links to pages that failed"
        assert len(visited) >= 2  # at least the home page and the own account page
        page = client.get("/beranda").get_data(as_text=True)
        assert f'lang="{locale}"' in page
    finally:
        # the demo database is shared by the session: leave the account in its default language
        post_form(client, "/beranda", "/bahasa", {"locale": "id"})
