"""Reading a /metrics scrape in tests."""
from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str, session=requests, **headers) -> dict:
    """{(sample name, frozenset of labels): value} of one scrape of ``url``/metrics."""
    answer = session.get(url + "/metrics", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    """A sample's value, 0 when absent (a counter not yet touched)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
