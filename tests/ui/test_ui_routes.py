"""The review page's routes without a browser: the page and every asset it loads, their
security headers (and none on the API or /docs), no inline code, no markup from strings."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from service.ui import CSP, STATIC
from tools.local_server import ROOT

STRICT = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    # No lifespan (no model loaded): these routes are static. API keys set: the page must still
    # load, to ask for one.
    settings = Settings(model_repository=ROOT / "model_repository", api_keys=["k"])
    return TestClient(create_app(settings), raise_server_exceptions=False)


def assets() -> set[str]:
    """Every file the page loads: from index.html, then the modules' imports."""
    html = (STATIC / "index.html").read_text()
    names = set(re.findall(r'(?:src|href)="/ui/static/([^"]+)"', html))
    todo = [n for n in names if n.endswith(".js")]
    while todo:
        for imported in re.findall(r'from "\./([^"]+)"', (STATIC / todo.pop()).read_text()):
            if imported not in names:
                names.add(imported)
                todo.append(imported)
    return names


def test_root_redirects_to_the_page(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/ui"


def test_page_and_assets_carry_the_policy(client: TestClient) -> None:
    page = client.get("/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    names = assets()
    assert {"app.js", "app.css", "api.js", "timeline.js", "review.js", "export.js"} <= names
    for response in [page, client.get("/", follow_redirects=False)] + [
        client.get(f"/ui/static/{n}") for n in sorted(names)
    ]:
        assert response.status_code in (200, 307), response.url
        for header, value in STRICT.items():
            assert response.headers.get(header) == value, (response.url, header)
    assert client.get("/ui/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/ui/static/app.css").headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("name", ["nope.js", "..%2Fapp.py", "index.html", "__init__.py"])
def test_only_the_assets_are_served(client: TestClient, name: str) -> None:
    response = client.get(f"/ui/static/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_api_and_docs_keep_their_headers(client: TestClient) -> None:
    # /docs loads Swagger UI from a CDN: the page's policy must not reach it.
    for path in ("/docs", "/healthz", "/v1/models"):
        assert "content-security-policy" not in client.get(path).headers, path
    assert client.get("/v1/models").status_code == 401
    assert "/ui" not in client.get("/openapi.json").json()["paths"]


def test_no_inline_code_and_no_markup_from_strings() -> None:
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), "inline style or handler"
    for js in STATIC.glob("*.js"):
        code = js.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in code, f"{js.name} uses {sink}"
        assert 'setAttribute("style"' not in code and "X-API-Key=" not in code
