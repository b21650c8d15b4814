"""docs/openapi.json describes exactly the REST API the app serves."""
import json
import re

from tests.support import ROOT


def spec() -> dict:
    return json.loads((ROOT / "docs" / "openapi.json").read_text())


def served(app) -> dict[str, set[str]]:
    """The app's /api, /healthz and /livez routes, in OpenAPI's path notation, with their methods."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule in ("/healthz", "/livez"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_every_route_is_documented_and_every_documented_route_is_served(app):
    documented = {
        path: {m for m in item if m in {"get", "post", "put", "patch", "delete"}}
        for path, item in spec()["paths"].items()
    }
    assert documented == served(app)


def test_documented_answers_match_real_ones(client):
    """The codes the spec lists for a route are ones the route really answers."""
    paths = spec()["paths"]
    assert "200" in paths["/api/rooms"]["get"]["responses"]
    assert client.get("/api/rooms").status_code == 200
    assert "400" in paths["/api/rooms"]["get"]["responses"]
    assert client.get("/api/rooms?limit=0").status_code == 400
    assert {p["name"] for p in paths["/api/rooms"]["get"]["parameters"]} == {"limit", "after"}
    post = paths["/api/rooms/{room}/messages"]["post"]["responses"]
    assert client.post("/api/rooms/general/messages", json={"text": "x"}).status_code == 401
    assert {"201", "200", "400", "401", "403", "404", "429"} <= set(post)
