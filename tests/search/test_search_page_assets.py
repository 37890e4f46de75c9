"""The portal's search page runs no inline script: the production Content-Security-Policy
(``script-src 'self'``) would block it. The suggestion script is a static file."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)


def test_search_page_has_no_inline_script_and_loads_the_suggestion_file(settings, db):
    settings.NGUON_CSP = "default-src 'self'; script-src 'self'"
    response = Client().get(reverse("search"), {"q": "tiêm chủng"})
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    content = response.content.decode()
    scripts = SCRIPT.findall(content)
    assert scripts, "the page loads its suggestion script"
    for attributes, body in scripts:
        assert "src=" in attributes and not body.strip(), attributes  # no inline code
    assert f'<script src="{static("search/suggest.js")}" defer></script>' in content
    # the script finds the endpoint on the input, and the endpoint is the suggestion API
    suggest_url = reverse("api-v1:suggest")
    assert f'data-suggest-url="{suggest_url}"' in content
    assert Client().get(suggest_url, {"q": "tiem"}).status_code == 200


def test_the_suggestion_script_is_a_static_file_that_fills_the_datalist():
    path = finders.find("search/suggest.js")
    assert path, "search/static/search/suggest.js is collected by collectstatic"
    with open(path, encoding="utf-8") as handle:
        code = handle.read()
    for needle in ("search-q", "search-suggestions", "dataset.suggestUrl", "replaceChildren"):
        assert needle in code


NODE_HARNESS = r"""
const fs = require("fs");
const listeners = {}, options = [];
const input = {value: "", dataset: {suggestUrl: "/api/v1/search/suggest"},
  addEventListener: (name, fn) => { listeners[name] = fn; }};
const list = {
  replaceChildren: (...children) => { options.splice(0, options.length, ...children); },
};
let fetched = null;
global.window = {fetch: true};
global.document = {
  getElementById: (id) => ({"search-q": input, "search-suggestions": list})[id] || null,
  createElement: () => ({value: ""}),
};
global.fetch = (url) => { fetched = url; return Promise.resolve({ok: true,
  json: () => Promise.resolve({suggestions: [{id: 1, headline: "Tiêm chủng mở rộng"}]})}); };
eval(fs.readFileSync(process.argv[2], "utf8"));
input.value = "tiem ch";
listeners.input();
setTimeout(() => console.log(JSON.stringify({fetched, options: options.map((o) => o.value)})), 400);
"""


def test_the_suggestion_script_fetches_and_fills_the_datalist(tmp_path):
    """Runs the file under Node with a stub DOM (skipped without Node)."""
    import json
    import shutil
    import subprocess

    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS, encoding="utf-8")
    out = subprocess.run(
        [node, str(harness), finders.find("search/suggest.js")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["fetched"] == "/api/v1/search/suggest?q=tiem%20ch"
    assert result["options"] == ["Tiêm chủng mở rộng"]
